use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 2 relu {
            weights: [[1.0, 2.0], [3.0, 4.0, 5.0]],
            bias: [0.0, 0.0],
        }, dropout(p = 0.5),
        dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
    }
}

fn main() {
    let net = Net::new();
    let y: [f32; 1] = net.forward(&[1.0, 2.0]);
    let (z, masks): ([f32; 1], NetMasks) = (net.forward_masked(&[1.0, 2.0], &NetMasks::ALL_KEPT), NetMasks { h1: [true, false] });
    println!("{y:?} {z:?} {masks}");
}
