"""Draw the pictures used by the documentation: python docs/img/make_images.py (needs Graphviz's dot)."""

from __future__ import annotations

from pathlib import Path

import graphnas
from graphnas.benchmarks.digits import digits_network
from graphnas.generators import get_generator
from graphnas.genotypes import DARTS_V2, genotype_to_dag

HERE = Path(__file__).parent
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"


def main() -> None:
    nb201 = get_generator("nb201").from_string(ARCH)
    pictures = {
        "nb201-cell.svg": (nb201, {}),
        "darts-v2.svg": (DARTS_V2, {}),
        "darts-v2-normal.svg": (genotype_to_dag(DARTS_V2, "normal"), {}),
        "ws32.svg": (get_generator("ws", n=32, k=4, p=0.75).sample(0), {}),
        "digits-network.svg": (digits_network(nb201, C=8, N=1), {}),
    }
    for name, (obj, options) in pictures.items():
        graphnas.render(obj, HERE / name, **options)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
