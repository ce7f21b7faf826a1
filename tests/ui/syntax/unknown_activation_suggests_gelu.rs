use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 2 gelus,
        dense 1 swish,
    }
}

fn main() {}
