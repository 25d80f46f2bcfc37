"""The judges, one per kind of exercise (``course_lib.exercises.KINDS``): each reads the probe's
records of a plan from their slots (``course_lib.cases.records``), compares them with the answer
key (``grader.exercises``) and gives each part of the plan its share of the cell's points, or
loses it with a reason.

Every judge is called as ``judge(exercise, parts, data, credit, points)``.
"""

from grader.judging.judges.blocks import judge_block
from grader.judging.judges.decoding import judge_decoding
from grader.judging.judges.functions import judge_blockwise, judge_encoding, judge_function
from grader.judging.judges.layers import judge_layer
from grader.judging.judges.translator import judge_translator

#: The judge of each kind of exercise.
JUDGES = {"function": judge_function,
          "encoding": judge_encoding,
          "blockwise": judge_blockwise,
          "layer": judge_layer,
          "block": judge_block,
          "translator": judge_translator,
          "decoding": judge_decoding}
