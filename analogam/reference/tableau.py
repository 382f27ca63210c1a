"""The Dormand-Prince 5(4) tableau (Dormand & Prince 1980, "A family of embedded
Runge-Kutta formulae", J. Comput. Appl. Math. 6) and Shampine's fourth-order dense
output for it (Shampine 1986, "Some practical Runge-Kutta formulas", Math. Comp. 46),
as exact fractions: the compiled ``dopri5`` integrator's coefficients.

``A`` (6, 5) stage matrix, ``B`` (6,) fifth-order weights, ``E`` (7,) the difference of
the embedded fourth-order solution (over the six stages and the FSAL stage), ``P``
(7, 4): the dense output ``y(t + th h) = y + h K^T (P [th, th^2, th^3, th^4])``.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np


def _array(rows) -> np.ndarray:
    return np.array([[float(F(x)) for x in r] for r in rows])


A = _array([
    [0, 0, 0, 0, 0],
    ["1/5", 0, 0, 0, 0],
    ["3/40", "9/40", 0, 0, 0],
    ["44/45", "-56/15", "32/9", 0, 0],
    ["19372/6561", "-25360/2187", "64448/6561", "-212/729", 0],
    ["9017/3168", "-355/33", "46732/5247", "49/176", "-5103/18656"],
])
B = _array([["35/384", 0, "500/1113", "125/192", "-2187/6784", "11/84"]])[0]
E = _array([["-71/57600", 0, "71/16695", "-71/1920", "17253/339200", "-22/525",
             "1/40"]])[0]
P = _array([
    [1, "-8048581381/2820520608", "8663915743/2820520608", "-12715105075/11282082432"],
    [0, 0, 0, 0],
    [0, "131558114200/32700410799", "-68118460800/10900136933",
     "87487479700/32700410799"],
    [0, "-1754552775/470086768", "14199869525/1410260304", "-10690763975/1880347072"],
    [0, "127303824393/49829197408", "-318862633887/49829197408",
     "701980252875/199316789632"],
    [0, "-282668133/205662961", "2019193451/616988883", "-1453857185/822651844"],
    [0, "40617522/29380423", "-110615467/29380423", "69997945/29380423"],
])
