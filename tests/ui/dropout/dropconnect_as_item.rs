use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu, dropconnect(p = 0.5),
        dense 1 identity,
    }
}

fn main() {}
