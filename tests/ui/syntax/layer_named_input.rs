use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        input: dense 1 identity,
    }
}

fn main() {}
