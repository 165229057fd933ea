"""Train a DeepRacer-style model on this machine: ``python train.py --help`` (the same as ``racer train``)."""

import sys

from racer_env.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
