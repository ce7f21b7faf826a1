use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
    }
}

fn main() {}
