use dropout::network;
use dropout::train::{Loss, Optimizer, OptimizerState, gradients};

network! {
    struct A<f64> { input: 1, dense 1 identity { weights: [[2.0]], bias: [1.0] } }
}

network! {
    struct B<f64> { input: 1, dense 1 identity { weights: [[2.0]], bias: [1.0] } }
}

fn main() {
    let (_, grads) = gradients(&A::new(), &[3.0], &AMasks {}, &[5.0], Loss::MeanSquaredError).unwrap();
    let mut state = OptimizerState::new(Optimizer::sgd(0.1)).unwrap();
    let _ = state.step(&mut B::new(), &grads);
}
