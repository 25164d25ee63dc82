"""Devices, array modules and the per-device kernel table."""
from .device import (Device, device, device_of, get_array_module, get_device, gpu_probe, set_device,
                     to_device)
from .kernel_table import KERNEL_NAMES, kernel_table, kernels

__all__ = ["Device", "device", "device_of", "get_array_module", "get_device", "gpu_probe", "set_device",
           "to_device", "kernels", "kernel_table", "KERNEL_NAMES"]
