ternary_lane.sv
ternary_core.sv
