use dropout::network;

network! {
    struct A<f32> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, 2.0]], bias: [0.0] } }
}

network! {
    struct B<f32> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[3.0, 4.0]], bias: [0.0] } }
}

fn main() {
    let _ = A::new().forward_masked(&[1.0, 2.0], &BMasks::ALL_KEPT);
}
