use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 1 identity,
        test t { input: [1, 1], expect: [0] }
    }
}

fn main() {}
