use dropout::network;

network! {
    struct Net<f32> {
        input: 4, alpha_dropout(p = 0.1),
        dense 8 selu, alpha_dropout(p = 0.2),
        dense 8 relu, alpha_dropout(p = 0.2),
        dense 1 identity,
    }
}

fn main() {}
