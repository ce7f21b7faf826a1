use dropout::network;

// trybuild compiles these cases in target/tests/trybuild/dropout; the fixtures are four levels up.
network! {
    struct Net<f32> {
        input: 3,
        dense 2 identity {
            weights: file("../../../../tests/ui/files/model.safetensors", "1.weight"),
            bias: file("../../../../tests/ui/files/model.safetensors", "0.bias"),
        },
    }
}

fn main() {}
