use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 2 hardsigmoid,
        dense 1 identity,
    }
}

fn main() {}
