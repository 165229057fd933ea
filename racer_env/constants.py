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
WHEEL_OFFSETS_M = tuple((ax - PARAMS_POINT_X_M, side * AXLE_WIDTH_M / 2) for ax in (REAR_AXLE_X_M, FRONT_AXLE_X_M)
                        for side in (1.0, -1.0))  # wheel centres from the params point, (forward, left): left rear,
# right rear, left front, right front

# --- objects on the track (objects spec §2.4, §3.4, §4.1; "objects spec" is ../shared/deepracer-objects-spec.md)
BOX_CRASH_LENGTH_M = 0.5  # BOX_OBSTACLE_DIMENSION (0.4, 0.5): the code reads the second number as the length
BOX_CRASH_WIDTH_M = 0.4  # along the lane and the first as the width: [SIM] track_geom/constants.py, track_data.py
BOX_BODY_LENGTH_M = 0.40  # the box model, along the lane: [SIM] models/box_obstacle/model.sdf
BOX_BODY_WIDTH_M = 0.30  # across (what LIDAR sees and what is drawn)
BOT_LENGTH_M = CAR_LENGTH_M  # BOT_CAR_DIMENSION, bot cars and parked-car obstacles: [SIM] track_geom/constants.py
BOT_WIDTH_M = CAR_WIDTH_M
OBJECT_NEAR_M = 1.0  # CLOSEST_OBJ_GAP: "an object is at this spot" for starts and resets: [SIM] agent_ctrl/constants.py
OBSTACLE_END_GAP_M = 1.0  # the last generated obstacle or bot is placed this far before waypoint 0: objects spec §2.2

# --- action limits (spec §3.3) ------------------------------------------
MAX_STEERING_DEG = 30.0  # MIN_ANGLE/MAX_ANGLE: [SIM] rollout_agent_ctrl.py send_action
MIN_SPEED_MPS = 0.1  # MIN_SPEED: [SIM] rollout_agent_ctrl.py
MAX_SPEED_MPS = 4.0  # MAX_SPEED: [SIM] rollout_agent_ctrl.py

# --- the car's dynamics (spec §3.4-3.6) -----------------------------------
GRAVITY_MPS2 = 9.81
TYRE_FRICTION = 0.5  # mu1 = mu2 = 0.5 on every wheel, combined with min(): [SIM] racecar.gazebo, spec §3.6
GRIP_MPS2 = TYRE_FRICTION * GRAVITY_MPS2  # lateral acceleration limit, 4.9 m/s²: spec §3.6
CONTROL_HZ = 60.0  # update_rate of the joint controllers: [SIM] config/racecar_control_kinematics.yaml
TICKS_PER_STEP = 4  # controller ticks per env step (60 Hz / 15 Hz)
ACTION_HZ_TOLERANCE = 0.005  # a car's action rate, 60 Hz / n, may be written to two decimals (8.57 for 60/7 Hz):
# racer_env's (racer evaluate --action-hz)
# Version >= 5 ("deepracer_kinematics", simapp 5-6): velocity-servo wheels, position-controlled steering.
KINEMATIC_SPEED_WEIGHTS = (0.30, 0.49, 0.18, 0.03)  # speed = sum(w_j * command_{k-j}), newest first: spec §3.5
KINEMATIC_STEER_GAIN = 0.1  # position_proportional_gain: 10 % of the error closed per tick, tau 0.158 s: spec §3.6
KINEMATIC_STEER_DEAD_TICKS = 2  # dead time before a command acts, half a step: spec §3.6 fit (0.46 steps)
KINEMATIC_WHEELBASE_M = 0.266  # curvature = tan(steering) / 0.266, wider than WHEELBASE_M: spec §3.6 fit
# Versions 3-4 ("deepracer", simapp 4): effort-driven joints. Fit on the shared 2022 log (simapp 4.0) by
# scripts/fit_vehicle.py. On that log the speed settles at 1.02 x the command (spec §3.4 quotes 0.88 from
# another log); it lags with a time constant of 0.18 s.
EFFORT_SPEED_FEEDBACK = 0.693  # weight of the previous step's speed
EFFORT_SPEED_WEIGHTS = (0.148, 0.166)  # weights of this step's and the previous step's command
EFFORT_STEER_GAIN = 0.05  # of the steering error closed per 60 Hz tick: tau 0.33 s, twice the kinematic car's
EFFORT_STEER_DEAD_TICKS = 0
EFFORT_WHEELBASE_M = 0.27  # the fit's median is flat over 0.25-0.28 m; 0.27 has the lowest p90 there
EFFECTIVE_WHEELBASE_M = KINEMATIC_WHEELBASE_M  # what scripted drivers steer by (pure pursuit)

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

# --- camera frustum (for object_in_camera, objects spec §6.8) -------------
CAMERA_X_M = 0.14529  # camera position in the car frame, single camera, version >= 3: [SIM] cameras/frustum.py
CAMERA_Z_M = 0.13033
CAMERA_PITCH_RAD = 0.2618  # 15° down
CAMERA_HFOV_RAD = 1.13  # horizontal field of view; the vertical one follows the 640 × 480 image
CAMERA_ASPECT = 480 / 640
CAMERA_NEAR_M = 0.2  # near and far planes
CAMERA_FAR_M = 300.0
BOX_Z_M = 0.1  # height of a box's origin (a bot's is 0): [SIM] agent_ctrl/constants.py
BOX_BODY_HEIGHT_M = 0.25  # the box model is 0.4 x 0.3 x 0.25 m about its origin: [SIM] models/box_obstacle/model.sdf
BOT_HEIGHT_M = 0.15  # a bot car's body, roughly: its camera, on top, is 0.13 m up (deepracer_single_cam.urdf)

# --- the camera image (spec §3.2, §4) --------------------------------------
CAMERA_IMAGE_W = 160  # TRAINING_IMAGE_SIZE (160, 120): the sensor resizes the 640 x 480 frame to it:
CAMERA_IMAGE_H = 120  # [SIM] environments/constants.py, sensors/sensors_rollout.py
STEREO_BASELINE_M = 0.06  # the stereo pair's cameras sit 0.03 m either side: [SIM] cameras/frustum.py

# --- domain randomisation of the camera (racer_env/sim/randomize.py, ``train --randomize``) ----------------
# What a training episode's camera may look like. None of these is measured on a physical car (nothing here can
# be): they are racer_env's estimates of how far a real car and a real track may be from the simulator's.
# The mount: the simulator's is the URDF's (CAMERA_Z_M, CAMERA_PITCH_RAD). A physical car's body rides on coil
# springs (it squats and dives under throttle and braking, and sits lower with a heavier battery) and its camera
# sits in a plastic bracket assembled by hand, so its height and pitch are not the URDF's to the millimetre or
# the degree. +-1 cm is 8 % of the height; +-2 degrees moves the horizon 4.7 rows of the image's 120.
RANDOM_HEIGHT_M = 0.01  # the camera's height: CAMERA_Z_M +- this
RANDOM_PITCH_RAD = 0.0349  # its pitch: CAMERA_PITCH_RAD +- 2 degrees
RANDOM_HEIGHT_STEP_M = 0.0025  # both drawn uniformly on a grid, 9 x 9 mounts: each mount's geometry is computed once
RANDOM_PITCH_STEP_RAD = 0.00873  # (3 ms) and kept; 0.5 degrees moves the horizon 1.2 rows, 2.5 mm the ground 2 %
# Colours: a printed or painted track, a carpet or a floor beside it, under other lights than Gazebo's. Each
# class (road, lines, surroundings) is changed on its own, by factors drawn log-uniformly in [1/f, f].
RANDOM_CLASS_BRIGHTNESS = 1.25  # a class's brightness x [0.8, 1.25]
RANDOM_CLASS_TINT = 1.1  # each of its channels x [0.91, 1.1] on top (a grey camera sees the tint's luma)
RANDOM_CLASS_OFFSET = 10.0  # +- grey levels added to a class (a matte or shiny surface's lift)
# Light and the sensor: the whole image's exposure (gain) and tone curve (gamma), a lighting gradient across it.
RANDOM_EXPOSURE = 1.4  # gain x [0.71, 1.4], log-uniform: about half a stop either way
RANDOM_GAMMA = 1.25  # gamma in [0.8, 1.25], log-uniform
RANDOM_GRADIENT = 0.3  # light x (1 +- up to 0.3) from one edge of the image to the other, any direction
RANDOM_NOISE = 6  # sensor noise: sigma drawn in 0..6 grey levels an episode, a new pattern every frame
RANDOM_BLUR_P = 0.3  # each frame is blurred with this probability, by a [1, 2, 1] x [1, 2, 1] kernel once or twice
# (sigma 0.7 or 1.0 px of the 160 x 120 image: a little defocus, or the car's own motion at 15 frames a second)

# --- racer_env's vector observation (racer_env/env/observations.py) ---------------------------------
LOOKAHEAD_M = (0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0)  # centre-line points ahead the vector holds
OBS_SCALE_M = 3.0  # those points' coordinates are divided by this
OBJECT_SLOTS = 2  # objects ahead the vector describes, with objects on the track
OBJECTS_AHEAD_M = 5.0  # how far ahead along the track it looks for them

# --- LIDAR (objects spec §7.2-7.3) -----------------------------------------
LIDAR_BEAMS = 64  # [SIM] racecar.gazebo, sensors/constants.py
LIDAR_HALF_SPAN_RAD = 2.61799  # ±150° about the sensor's axis, which faces backwards (mount yaw π)
LIDAR_X_M = 0.02913  # hokuyo_joint, from the chassis (x): [SIM] deepracer_single_cam_lidar.urdf
LIDAR_MIN_M = 0.15  # range and noise: [SIM] racecar.launch.py
LIDAR_MAX_M = 12.0
LIDAR_NOISE_M = 0.01
LIDAR_CLIP_M = 1.0  # the LIDAR observation clips to [0.15, 1.0]: [SIM] environments/constants.py
SECTOR_LIDAR_SECTORS = 8  # SECTOR_LIDAR: 8 sectors, 1 when something is within 0.5 m
SECTOR_LIDAR_CLIP_M = 0.5
DISCRETIZED_LIDAR_DEFAULTS = (8, 8, 2.0)  # lidar_config: num_sectors, num_values_per_sector, clipping_dist
