dropout::network! {
    struct Net { input: 2, dense -3 relu, dense 1 identity }
}

fn main() {}
