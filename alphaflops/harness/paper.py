"""Sweep spec of the published Quadro T2000 measurements.

Source: the measurement set published with "Dissecting FLOPs along input
dimensions for GreenAI cost estimations" (Asperti, Evangelista, Marzolla,
LOD 2021, arXiv:2107.11949), repository asperti/alpha_flops_dataset. Plot
names, axis labels and annotation strings are kept exactly as published,
spelling slips and unbalanced mathtext included, so that a measured set
lines up with the published one plot by plot.

Each column formula is an integer or an expression in ``x``, the value
that grows along the line (see ``alphaflops.harness.sweeps``).
"""

_K_UP_TO_28 = [{"range": [1, 20]}, 21, 22, 24, 26, 28]
_TEN_TO_640 = [10, {"range": [20, 641, 20]}]
_PROGRESSIVE_D = [400, 500, 800, 1100, 1600, 2200, 3200, 4500, 6400, 9000, 12800]


def _channels_line(channels):
    return {"columns": {"Cin": channels, "Cout": channels}}


PAPER_SPEC = {
    "name": "paper",
    "description": "The 721 layer configurations of the published Quadro T2000 set, in its order.",
    "plots": [
        {
            "name": "conv_K_vs_S",
            "axis": 4,
            "x_label": "K size",
            "ylim": None,
            "annotations": [
                [1, 17, "$D = H x W x C_{in}$"],
                [1, 16, "$H = W = 300K$"],
                [20.1, 16.3, "$C_{in} = C_{out} = 150$"],
                [21.9, 8.4, "$C_{in} = C_{out} = 100$"],
                [22.1, 4.1, "$C_{in} = C_{out} = 70$"],
                [22.1, 0.7, "$C_{in} = C_{out} = 50$"],
            ],
            "x": _K_UP_TO_28,
            "columns": {"H": "300 // x", "W": "300 // x", "K1": "x", "K2": "x"},
            "lines": [_channels_line(50), _channels_line(70), _channels_line(100), _channels_line(150)],
        },
        {
            "name": "increasing_W",
            "axis": 0,
            "x_label": "W size",
            "ylim": 10,
            "annotations": [
                [0, 8.8, "$D = W x 100 x C_{in}$"],
                [0, 8, "$K = 3 x 3$"],
                [560, 6.4, "$C_{in} = 150$"],
                [560, 4.4, "$C_{in} = 100$"],
                [560, 2.4, "$C_{in} = 50$"],
            ],
            "x": _TEN_TO_640,
            "columns": {"H": "x", "W": 100, "Cout": 100, "K1": 3, "K2": 3},
            "lines": [{"columns": {"Cin": 50}}, {"columns": {"Cin": 100}}, {"columns": {"Cin": 150}}],
        },
        {
            "name": "increasing_Cout",
            "axis": 3,
            "x_label": "Cout size",
            "ylim": 10,
            "annotations": [
                [0, 8.8, "$D = 100 x 100 x C_{in}$"],
                [0, 8, "$K = 3 x 3$"],
                [560, 5.1, "$C_{in} = 150$"],
                [560, 3.6, "$C_{in} = 100$"],
                [560, 1.8, "$C_{in} = 50$"],
            ],
            "x": _TEN_TO_640,
            "columns": {"H": 100, "W": 100, "Cout": "x", "K1": 3, "K2": 3},
            "lines": [{"columns": {"Cin": 50}}, {"columns": {"Cin": 100}}, {"columns": {"Cin": 150}}],
        },
        {
            "name": "increasing_Cout_with_K1",
            "axis": 3,
            "x_label": "Cout size",
            "ylim": 2.5,
            "annotations": [
                [0, 2.1, "$D = 100 x H x 50$"],
                [0, 1.9, "$K = 1 x 1$"],
                [560, 2.0, "$H = 300$"],
                [560, 1.2, "$H = 200$"],
                [560, 0.5, "$H = 100$"],
            ],
            "x": _TEN_TO_640,
            "columns": {"H": 300, "Cin": 50, "Cout": "x", "K1": 1, "K2": 1},
            "lines": [{"columns": {"W": 100}}, {"columns": {"W": 200}}, {"columns": {"W": 300}}],
        },
        {
            "name": "conv_K_vs_C",
            "axis": 4,
            "x_label": "K size",
            "ylim": None,
            "annotations": [
                [1, 17, "$D = 10 x 10 x C_{in}$"],
                [1, 16, "$C_{in} = C_{out} = C$"],
                [22.0, 16.0, "$C x K =4500$"],
                [22.3, 8.2, "$C x K = 3000$"],
                [22.3, 4.7, "$C x K = 2100$"],
                [22.3, 0.8, "$C x K = 1500$"],
            ],
            "x": [{"range": [1, 29]}],
            "columns": {"H": 10, "W": 10, "K1": "x", "K2": "x"},
            "lines": [
                {"columns": {"Cin": "1500 // x", "Cout": "1500 // x"}},
                {"columns": {"Cin": "2100 // x", "Cout": "2100 // x"}},
                {"columns": {"Cin": "3000 // x", "Cout": "3000 // x"}},
                {"columns": {"Cin": "4500 // x", "Cout": "4500 // x"}},
            ],
        },
        {
            "name": "conv_fixed_progressive",
            "axis": "progressive",
            "x_label": "$D Size$",
            "ylim": None,
            "annotations": [
                [115, 5.9, "(1)"],
                [115, 3, "(2)"],
                [115, 1.55, "(3)"],
                [115, 0.6, "(4)"],
                [1, 6, "(1) Dense, $D_1=D_2=2^x*100$"],
                [1, 5.5, "(2) Conv, $H=1, W=2, C_{in}=2^x*100, C_{out}=2^x*50$"],
                [1, 5, "(3) Conv, $H=W=2, C_{in}=C_{out}=2^x*50$"],
                [1, 4.5, "(4) Conv, $H=W=4, C_{in}=C_{out}=2^x*25$"],
            ],
            "x": _PROGRESSIVE_D,
            "columns": {"K1": 1, "K2": 1},
            "lines": [
                {"kind": "dense", "columns": {"H": 1, "W": 1, "Cin": "x", "Cout": "x"}},
                {"columns": {"H": 1, "W": 2, "Cin": "x", "Cout": "x // 2"}},
                {"columns": {"H": 2, "W": 2, "Cin": "x", "Cout": "x // 4"}},
                {"columns": {"H": 2, "W": 2, "Cin": "x // 2", "Cout": "x // 2"}},
                {"columns": {"H": 4, "W": 4, "Cin": "x // 4", "Cout": "x // 4"}},
            ],
        },
        {
            "name": "incresing_Cin_100-1000",
            "axis": 2,
            "x_label": "$C_{in}$ Size",
            "ylim": None,
            "annotations": [
                [100, 14, "$D = 10 x 10 x C_{in}$"],
                [100, 13, "C_{out} = 1000$"],
                [810, 12, "$K_1 = K_2 =5$"],
                [810, 5, "$K_1 = K_2 = 3$"],
                [810, 1, "$K_1 = K_2= 1$"],
            ],
            "x": [{"range": [100, 1001, 100]}],
            "columns": {"H": 10, "W": 10, "Cin": "x", "Cout": 1000},
            "lines": [
                {"columns": {"K1": 1, "K2": 1}},
                {"columns": {"K1": 3, "K2": 3}},
                {"columns": {"K1": 5, "K2": 5}},
            ],
        },
        {
            "name": "increasing_batch",
            "axis": 0,
            "x_label": "Bathcsize",
            "ylim": None,
            "annotations": [
                [50, 13.7, "$12800x12800$"],
                [50, 10, "11085x11085"],
                [50, 6.5, "9050x9050"],
                [50, 2.7, "$6400x6400$"],
            ],
            "kind": "dense",
            "x": [1, {"range": [2, 65, 2]}],
            "columns": {"H": "x", "W": 1, "K1": 1, "K2": 1},
            "lines": [
                {"columns": {"Cin": 6400, "Cout": 6400}},
                {"columns": {"Cin": 9050, "Cout": 9050}},
                {"columns": {"Cin": 11085, "Cout": 11085}},
                {"x": [{"range": [1, 64, 2]}], "columns": {"Cin": 12800, "Cout": 12800}},
            ],
        },
    ],
}
