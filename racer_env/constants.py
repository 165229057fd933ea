"""Physical and simulator constants, each with its source.

Units are in the names: ``_M`` metres, ``_MPS`` metres per second, ``_DEG``
degrees, ``_RAD`` radians, ``_S`` seconds, ``_HZ`` per second. "Spec" is
``../shared/deepracer-spec.md``; [SIM] is the DeepRacer simulation app.
"""

# --- time ---------------------------------------------------------------
STEP_HZ = 15.0  # camera update_rate, one env step per frame: [SIM] racecar.gazebo, spec §3.1
DT_S = 1.0 / STEP_HZ  # simulated seconds per step

# --- car geometry (URDF deepracer_single_cam.urdf, spec §3.2) ------------
WHEELBASE_M = 0.164  # front hinge x 0.082311 - rear joint x -0.081663
AXLE_WIDTH_M = 0.16  # rear joints y ±0.08105, front hinges y ±0.079601
REAR_AXLE_X_M = -0.081663  # rear wheel joints, x from body origin (base_link)
FRONT_AXLE_X_M = 0.082311  # front steering hinges, x from body origin
PARAMS_POINT_X_M = 0.14  # RELATIVE_POSITION_OF_FRONT_OF_CAR: [SIM] agent_ctrl/constants.py, spec §1.1
CAR_LENGTH_M = 0.32352  # crash footprint, along the car: BOT_CAR_DIMENSION, spec §3.2 / §1.2 is_crashed
CAR_WIDTH_M = 0.1961  # crash footprint, across the car
BOX_OBSTACLE_LENGTH_M = 0.4  # ObstacleDimensions.BOX_OBSTACLE_DIMENSION: [SIM] track_geom/constants.py
BOX_OBSTACLE_WIDTH_M = 0.5  # (both include a 0.1 m buffer)

# --- action limits (spec §3.3) ------------------------------------------
MAX_STEERING_DEG = 30.0  # MIN_ANGLE/MAX_ANGLE: [SIM] rollout_agent_ctrl.py send_action
MIN_SPEED_MPS = 0.1  # MIN_SPEED: [SIM] rollout_agent_ctrl.py
MAX_SPEED_MPS = 4.0  # MAX_SPEED: [SIM] rollout_agent_ctrl.py

# --- simapp 6 kinematic physics, the fit of spec §3.5 -------------------
# Speed between pose k and k+1 = sum(w_j * command_{k-j}), newest first.
SPEED_LAG_WEIGHTS = (0.30, 0.49, 0.18, 0.03)  # spec §3.5 least squares on 2026 logs
STEERING_DELAY_STEPS = 2  # steering in effect = the command of two steps earlier: spec §3.5
EFFECTIVE_WHEELBASE_M = 0.27  # the car turns less tightly than WHEELBASE_M: spec §3.5

# --- episode rules (spec §2) --------------------------------------------
REVERSED_STEPS = 15  # NUMBER_OF_REVERSE_COUNTS: [SIM] reverse_reset_rule.py
IMMOBILIZED_STEPS = 15  # NUM_STEPS_TO_CHECK_STUCK: [SIM] immobilized_reset_rule.py
IMMOBILIZED_DIST_M = 0.0003  # moved at most this per step: [SIM] immobilized_reset_rule.py
ROUND_ROBIN_ADVANCE_PCT = 5.0  # ROUND_ROBIN_ADVANCE_DIST 0.05 of a lap: [SIM] rollout_agent_ctrl.py, spec §2.3
FIRST_REWARD_STEP = 2.0  # step 1 is the reward-less prepare step, so the reward function first sees 2.0: spec §1.5
MAX_REWARD_ABS = 1e5  # rewards outside [-1e5, 1e5] are fatal: [SIM] _judge_action_at_run_phase, spec §1.6
RACE_DURATION_S = 180.0  # RACE_DURATION of virtual events: [SIM] virtual_event/constants.py, spec §2.1
OFF_TRACK_PENALTY_S = 2.0  # OFF_TRACK_PENALTY, evaluation default: [SIM] evaluation_worker.py, spec §2.2
COLLISION_PENALTY_S = 5.0  # COLLISION_PENALTY, evaluation default: [SIM] evaluation_worker.py, spec §2.2
IMMOBILIZED_PENALTY_S = 0.0  # IMMOBILIZED_PENALTY default: spec §2.2

# --- camera (for object_in_camera, spec §3.2) ----------------------------
CAMERA_HFOV_RAD = 1.13  # zed camera horizontal field of view: [SIM] URDF
CAMERA_RANGE_M = 5.0  # ours: how far the frustum test looks (the sim uses the image plane)
