use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        h1: dense 3 relu dropconnect(p = 0.5),
        h1_weights: dense 2 relu,
        dense 1 identity,
    }
}

fn main() {}
