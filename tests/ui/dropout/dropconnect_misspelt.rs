use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu drop_connect(p = 0.5),
        dense 1 identity,
    }
}

fn main() {}
