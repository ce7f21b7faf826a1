use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 sigmod,
        dense 1 identity,
    }
}

fn main() {}
