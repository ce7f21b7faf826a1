use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 2 leaky_relu,
        dense 1 identity,
    }
}

fn main() {}
