dropout::network! {
    struct Net { input: -2, dense 1 identity }
}

fn main() {}
