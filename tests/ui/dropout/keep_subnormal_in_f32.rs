use dropout::network;

network! {
    struct Net<f32> {
        input: 2, dropout(keep = 3e-39),
        dense 1 identity,
    }
}

fn main() {}
