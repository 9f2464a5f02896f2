"""Runtime hook of the cpu flavour: hide NVIDIA GPUs from torch before it is imported.

On Linux the cpu bundle carries PyPI's CUDA build of torch without the CUDA libraries that torch
loads on demand (cuDNN's engines, cuSOLVER, ...). Were a GPU visible, ``--device auto`` would pick it
and fail at the first convolution. Hidden, torch reports no CUDA device and everything runs on the
CPU (MPS on macOS is untouched). The cuda flavour does not include this hook.
"""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""
