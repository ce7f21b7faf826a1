use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        enc: dense 2 relu,
        enc: dense 1 identity,
    }
}

fn main() {}
