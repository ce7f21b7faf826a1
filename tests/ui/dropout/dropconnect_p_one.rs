use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu,
        dense 1 identity dropconnect(p = 1.0),
    }
}

fn main() {}
