use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu, dropout(keep = 0),
        dense 1 identity,
    }
}

fn main() {}
