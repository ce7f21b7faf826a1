use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 0 relu,
        dense 1 identity,
    }
}

fn main() {}
