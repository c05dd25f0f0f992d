#!/usr/bin/python3
"""The numpy twin of src/infer/image.c lives with the training recipe
(models/train/preprocess.py), so that training and the tests use one
implementation; this entry point keeps the tests' path."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "models", "train"))
from preprocess import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
