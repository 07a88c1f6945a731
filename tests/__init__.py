"""Haven's tests. Imported before any conftest, so what is set here holds for every test.

numpy's OpenBLAS starts a thread per core for each matrix product. The learned stage's heads
multiply one row at a time, so on a busy 2-core machine those threads spin against each other
and against the other tests' processes: a head's product took 30 ms of wall time instead of
1.6 ms. One thread, set before numpy is first imported, in this process and in every Haven
process a test starts (they inherit this environment).
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
