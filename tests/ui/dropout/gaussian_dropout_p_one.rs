use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu, gaussian_dropout(p = 1),
        dense 1 identity,
    }
}

fn main() {}
