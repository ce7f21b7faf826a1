use dropout::network;

network! {
    struct Net<f32> {
        input: 0,
        dense 1 identity,
    }
}

fn main() {}
