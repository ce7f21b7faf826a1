use dropout::network;

network! {
    struct Net<f64> {
        input: 2,
        dense 2 elu,
        dense 2 elu(),
        dense 1 elu(1.0, 2.0),
    }
}

fn main() {}
