# -*- Python -*-
# lit runs the gtest unit-test binaries as one suite each.

import os
import lit.formats

config.name = "QC-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qc_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "tests")
