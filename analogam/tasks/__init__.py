"""Stage 2, tasks: XOR, the Hamming (7,4) code, 8-bit parity and the 8x8 digits - how inputs enter a
model (clamps, initial states, tokens), how a settled state is read, and the truth.
"""

from .bits import all_bit_strings, parse_bits, read_bits_file, select_inputs
from .digits import DIGITS_CLASSES, DIGITS_PIXELS, digits_rows, digits_split
from .hamming import (
    build_hamming_model,
    hamming74_codewords,
    hamming74_decode_reference,
    hamming74_test_words,
)
from .parity import PARITY_BITS, parity_split
from .recall import RECALL, recall_task
from .registry import TASKS, bind_task, get_task, task_for
from .task import Task
from .xor import XOR_TABLE, build_xor_model

__all__ = [
    "DIGITS_CLASSES", "DIGITS_PIXELS", "digits_rows", "digits_split",
    "RECALL", "recall_task", "select_inputs", "task_for",
    "PARITY_BITS", "TASKS", "Task", "XOR_TABLE", "all_bit_strings", "bind_task",
    "build_hamming_model", "build_xor_model", "get_task", "hamming74_codewords",
    "hamming74_decode_reference", "hamming74_test_words", "parity_split", "parse_bits",
    "read_bits_file",
]
