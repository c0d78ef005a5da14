/*
 * MISB ST 0601.19 UAS Datalink Local Set: the one tag table (tags 1-143).
 *
 *   key    06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00   (16 bytes, SMPTE ST 336 UL)
 *   length BER (short or long form)
 *   value  items: tag (BER-OID) | length (BER) | value; tag 2 first, tag 1 last
 *
 * Mapped items (ST 0601 §6.3):
 *   unsigned  natural = lo + x * (hi - lo) / (2^(8n) - 1)
 *   signed    natural = x * (hi - lo) / (2^(8n) - 2), x = -2^(8n-1) reserved for "out of range"
 *   IMAPB     ST 1201, length chosen by the producer
 * Variable-length integers (tags 110, 111, 131, 133, 136, 137) are minimal big-endian.
 *
 * Sources: ST 0601.19 as implemented by KWIVER arrows/klv/klv_0601.cxx and
 * jMISB st0601; every mapped range checked against the MISB example values of
 * the reference packet (shared/data/klv/vectors/st0601_reference_packet_v17.json).
 */
#include <math.h>
#include <string.h>

#include "klv_int.h"

static const uint8_t k_key_0601[16] = {0x06, 0x0e, 0x2b, 0x34, 0x02, 0x0b, 0x01, 0x01,
                                       0x0e, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00};

#define B VG_KLV_FMT_BYTES
#define U VG_KLV_FMT_UINT
#define I VG_KLV_FMT_INT
#define UM VG_KLV_FMT_UMAP
#define SM VG_KLV_FMT_SMAP
#define IM VG_KLV_FMT_IMAPB
#define S VG_KLV_FMT_STRING
#define TM VG_KLV_FMT_TIME
#define ST VG_KLV_FMT_SET
#define PK VG_KLV_FMT_PACK
#define NOK VG_KLV_KIND_UNKNOWN

/* tag, fmt, minlen, maxlen, deflen, lo, hi, scale, key, name, units, child */
static const vg_klv_tagdef k_tags[] = {
  {1, U, 2, 2, 2, 0, 0, 0, "checksum", "Checksum", "", NOK},
  {2, TM, 8, 8, 8, 0, 0, 0, "precision_time_stamp", "Precision Time Stamp", "us", NOK},
  {3, S, 0, 127, 0, 0, 0, 0, "mission_id", "Mission ID", "", NOK},
  {4, S, 0, 127, 0, 0, 0, 0, "platform_tail_number", "Platform Tail Number", "", NOK},
  {5, UM, 2, 2, 2, 0, 360, 0, "platform_heading_angle", "Platform Heading Angle", "deg", NOK},
  {6, SM, 2, 2, 2, -20, 20, 0, "platform_pitch_angle", "Platform Pitch Angle", "deg", NOK},
  {7, SM, 2, 2, 2, -50, 50, 0, "platform_roll_angle", "Platform Roll Angle", "deg", NOK},
  {8, U, 1, 1, 1, 0, 255, 0, "platform_true_airspeed", "Platform True Airspeed", "m/s", NOK},
  {9, U, 1, 1, 1, 0, 255, 0, "platform_indicated_airspeed", "Platform Indicated Airspeed", "m/s", NOK},
  {10, S, 0, 127, 0, 0, 0, 0, "platform_designation", "Platform Designation", "", NOK},
  {11, S, 0, 127, 0, 0, 0, 0, "image_source_sensor", "Image Source Sensor", "", NOK},
  {12, S, 0, 127, 0, 0, 0, 0, "image_coordinate_system", "Image Coordinate System", "", NOK},
  {13, SM, 4, 4, 4, -90, 90, 0, "sensor_latitude", "Sensor Latitude", "deg", NOK},
  {14, SM, 4, 4, 4, -180, 180, 0, "sensor_longitude", "Sensor Longitude", "deg", NOK},
  {15, UM, 2, 2, 2, -900, 19000, 0, "sensor_true_altitude", "Sensor True Altitude", "m", NOK},
  {16, UM, 2, 2, 2, 0, 180, 0, "sensor_horizontal_fov", "Sensor Horizontal Field of View", "deg", NOK},
  {17, UM, 2, 2, 2, 0, 180, 0, "sensor_vertical_fov", "Sensor Vertical Field of View", "deg", NOK},
  {18, UM, 4, 4, 4, 0, 360, 0, "sensor_relative_azimuth", "Sensor Relative Azimuth Angle", "deg", NOK},
  {19, SM, 4, 4, 4, -180, 180, 0, "sensor_relative_elevation", "Sensor Relative Elevation Angle", "deg", NOK},
  {20, UM, 4, 4, 4, 0, 360, 0, "sensor_relative_roll", "Sensor Relative Roll Angle", "deg", NOK},
  {21, UM, 4, 4, 4, 0, 5000000, 0, "slant_range", "Slant Range", "m", NOK},
  {22, UM, 2, 2, 2, 0, 10000, 0, "target_width", "Target Width", "m", NOK},
  {23, SM, 4, 4, 4, -90, 90, 0, "frame_center_latitude", "Frame Center Latitude", "deg", NOK},
  {24, SM, 4, 4, 4, -180, 180, 0, "frame_center_longitude", "Frame Center Longitude", "deg", NOK},
  {25, UM, 2, 2, 2, -900, 19000, 0, "frame_center_elevation", "Frame Center Elevation", "m", NOK},
  {26, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_latitude_1", "Offset Corner Latitude Point 1", "deg", NOK},
  {27, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_longitude_1", "Offset Corner Longitude Point 1", "deg", NOK},
  {28, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_latitude_2", "Offset Corner Latitude Point 2", "deg", NOK},
  {29, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_longitude_2", "Offset Corner Longitude Point 2", "deg", NOK},
  {30, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_latitude_3", "Offset Corner Latitude Point 3", "deg", NOK},
  {31, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_longitude_3", "Offset Corner Longitude Point 3", "deg", NOK},
  {32, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_latitude_4", "Offset Corner Latitude Point 4", "deg", NOK},
  {33, SM, 2, 2, 2, -0.075, 0.075, 0, "offset_corner_longitude_4", "Offset Corner Longitude Point 4", "deg", NOK},
  {34, U, 1, 1, 1, 0, 2, 0, "icing_detected", "Icing Detected", "", NOK},
  {35, UM, 2, 2, 2, 0, 360, 0, "wind_direction", "Wind Direction", "deg", NOK},
  {36, UM, 1, 1, 1, 0, 100, 0, "wind_speed", "Wind Speed", "m/s", NOK},
  {37, UM, 2, 2, 2, 0, 5000, 0, "static_pressure", "Static Pressure", "mbar", NOK},
  {38, UM, 2, 2, 2, -900, 19000, 0, "density_altitude", "Density Altitude", "m", NOK},
  {39, I, 1, 1, 1, -128, 127, 0, "outside_air_temperature", "Outside Air Temperature", "degC", NOK},
  {40, SM, 4, 4, 4, -90, 90, 0, "target_location_latitude", "Target Location Latitude", "deg", NOK},
  {41, SM, 4, 4, 4, -180, 180, 0, "target_location_longitude", "Target Location Longitude", "deg", NOK},
  {42, UM, 2, 2, 2, -900, 19000, 0, "target_location_elevation", "Target Location Elevation", "m", NOK},
  {43, U, 1, 1, 1, 0, 510, 2, "target_track_gate_width", "Target Track Gate Width", "px", NOK},
  {44, U, 1, 1, 1, 0, 510, 2, "target_track_gate_height", "Target Track Gate Height", "px", NOK},
  {45, UM, 2, 2, 2, 0, 4095, 0, "target_error_estimate_ce90", "Target Error Estimate - CE90", "m", NOK},
  {46, UM, 2, 2, 2, 0, 4095, 0, "target_error_estimate_le90", "Target Error Estimate - LE90", "m", NOK},
  {47, U, 1, 1, 1, 0, 0, 0, "generic_flag_data", "Generic Flag Data", "", NOK},
  {48, ST, 0, 0, 0, 0, 0, 0, "security_local_set", "Security Local Set", "", VG_KLV_KIND_ST0102},
  {49, UM, 2, 2, 2, 0, 5000, 0, "differential_pressure", "Differential Pressure", "mbar", NOK},
  {50, SM, 2, 2, 2, -20, 20, 0, "platform_angle_of_attack", "Platform Angle of Attack", "deg", NOK},
  {51, SM, 2, 2, 2, -180, 180, 0, "platform_vertical_speed", "Platform Vertical Speed", "m/s", NOK},
  {52, SM, 2, 2, 2, -20, 20, 0, "platform_sideslip_angle", "Platform Sideslip Angle", "deg", NOK},
  {53, UM, 2, 2, 2, 0, 5000, 0, "airfield_barometric_pressure", "Airfield Barometric Pressure", "mbar", NOK},
  {54, UM, 2, 2, 2, -900, 19000, 0, "airfield_elevation", "Airfield Elevation", "m", NOK},
  {55, UM, 1, 1, 1, 0, 100, 0, "relative_humidity", "Relative Humidity", "%", NOK},
  {56, U, 1, 1, 1, 0, 255, 0, "platform_ground_speed", "Platform Ground Speed", "m/s", NOK},
  {57, UM, 4, 4, 4, 0, 5000000, 0, "ground_range", "Ground Range", "m", NOK},
  {58, UM, 2, 2, 2, 0, 10000, 0, "platform_fuel_remaining", "Platform Fuel Remaining", "kg", NOK},
  {59, S, 0, 127, 0, 0, 0, 0, "platform_call_sign", "Platform Call Sign", "", NOK},
  {60, U, 2, 2, 2, 0, 0, 0, "weapon_load", "Weapon Load", "", NOK},
  {61, U, 1, 1, 1, 0, 0, 0, "weapon_fired", "Weapon Fired", "", NOK},
  {62, U, 2, 2, 2, 0, 0, 0, "laser_prf_code", "Laser PRF Code", "", NOK},
  {63, U, 1, 1, 1, 0, 0, 0, "sensor_fov_name", "Sensor Field of View Name", "", NOK},
  {64, UM, 2, 2, 2, 0, 360, 0, "platform_magnetic_heading", "Platform Magnetic Heading", "deg", NOK},
  {65, U, 1, 1, 1, 0, 0, 0, "uas_ls_version", "UAS Datalink LS Version Number", "", NOK},
  {66, B, 0, 0, 0, 0, 0, 0, "deprecated_66", "Deprecated (Target Location Covariance Matrix)", "", NOK},
  {67, SM, 4, 4, 4, -90, 90, 0, "alternate_platform_latitude", "Alternate Platform Latitude", "deg", NOK},
  {68, SM, 4, 4, 4, -180, 180, 0, "alternate_platform_longitude", "Alternate Platform Longitude", "deg", NOK},
  {69, UM, 2, 2, 2, -900, 19000, 0, "alternate_platform_altitude", "Alternate Platform Altitude", "m", NOK},
  {70, S, 0, 127, 0, 0, 0, 0, "alternate_platform_name", "Alternate Platform Name", "", NOK},
  {71, UM, 2, 2, 2, 0, 360, 0, "alternate_platform_heading", "Alternate Platform Heading", "deg", NOK},
  {72, TM, 8, 8, 8, 0, 0, 0, "event_start_time", "Event Start Time - UTC", "us", NOK},
  {73, B, 0, 0, 0, 0, 0, 0, "rvt_local_set", "RVT Local Set (ST 0806)", "", NOK},
  {74, ST, 0, 0, 0, 0, 0, 0, "vmti_local_set", "VMTI Local Set", "", VG_KLV_KIND_ST0903},
  {75, UM, 2, 2, 2, -900, 19000, 0, "sensor_ellipsoid_height", "Sensor Ellipsoid Height", "m", NOK},
  {76, UM, 2, 2, 2, -900, 19000, 0, "alternate_platform_ellipsoid_height", "Alternate Platform Ellipsoid Height", "m", NOK},
  {77, U, 1, 1, 1, 0, 0, 0, "operational_mode", "Operational Mode", "", NOK},
  {78, UM, 2, 2, 2, -900, 19000, 0, "frame_center_hae", "Frame Center Height Above Ellipsoid", "m", NOK},
  {79, SM, 2, 2, 2, -327, 327, 0, "sensor_north_velocity", "Sensor North Velocity", "m/s", NOK},
  {80, SM, 2, 2, 2, -327, 327, 0, "sensor_east_velocity", "Sensor East Velocity", "m/s", NOK},
  {81, B, 0, 0, 0, 0, 0, 0, "image_horizon_pixel_pack", "Image Horizon Pixel Pack", "", NOK},
  {82, SM, 4, 4, 4, -90, 90, 0, "corner_latitude_1", "Corner Latitude Point 1 (Full)", "deg", NOK},
  {83, SM, 4, 4, 4, -180, 180, 0, "corner_longitude_1", "Corner Longitude Point 1 (Full)", "deg", NOK},
  {84, SM, 4, 4, 4, -90, 90, 0, "corner_latitude_2", "Corner Latitude Point 2 (Full)", "deg", NOK},
  {85, SM, 4, 4, 4, -180, 180, 0, "corner_longitude_2", "Corner Longitude Point 2 (Full)", "deg", NOK},
  {86, SM, 4, 4, 4, -90, 90, 0, "corner_latitude_3", "Corner Latitude Point 3 (Full)", "deg", NOK},
  {87, SM, 4, 4, 4, -180, 180, 0, "corner_longitude_3", "Corner Longitude Point 3 (Full)", "deg", NOK},
  {88, SM, 4, 4, 4, -90, 90, 0, "corner_latitude_4", "Corner Latitude Point 4 (Full)", "deg", NOK},
  {89, SM, 4, 4, 4, -180, 180, 0, "corner_longitude_4", "Corner Longitude Point 4 (Full)", "deg", NOK},
  {90, SM, 4, 4, 4, -90, 90, 0, "platform_pitch_angle_full", "Platform Pitch Angle (Full)", "deg", NOK},
  {91, SM, 4, 4, 4, -90, 90, 0, "platform_roll_angle_full", "Platform Roll Angle (Full)", "deg", NOK},
  {92, SM, 4, 4, 4, -90, 90, 0, "platform_angle_of_attack_full", "Platform Angle of Attack (Full)", "deg", NOK},
  {93, SM, 4, 4, 4, -180, 180, 0, "platform_sideslip_angle_full", "Platform Sideslip Angle (Full)", "deg", NOK},
  {94, B, 0, 0, 0, 0, 0, 0, "miis_core_identifier", "MIIS Core Identifier (ST 1204)", "", NOK},
  {95, B, 0, 0, 0, 0, 0, 0, "sar_motion_imagery_local_set", "SAR Motion Imagery Local Set (ST 1206)", "", NOK},
  {96, IM, 1, 8, 3, 0, 1500000, 0, "target_width_extended", "Target Width Extended", "m", NOK},
  {97, B, 0, 0, 0, 0, 0, 0, "range_image_local_set", "Range Image Local Set (ST 1002)", "", NOK},
  {98, B, 0, 0, 0, 0, 0, 0, "geo_registration_local_set", "Geo-Registration Local Set (ST 1601)", "", NOK},
  {99, B, 0, 0, 0, 0, 0, 0, "composite_imaging_local_set", "Composite Imaging Local Set (ST 1602)", "", NOK},
  {100, B, 0, 0, 0, 0, 0, 0, "segment_local_set", "Segment Local Set (ST 1607)", "", NOK},
  {101, B, 0, 0, 0, 0, 0, 0, "amend_local_set", "Amend Local Set (ST 1607)", "", NOK},
  {102, B, 0, 0, 0, 0, 0, 0, "sdcc_flp", "SDCC-FLP (ST 1010)", "", NOK},
  {103, IM, 1, 8, 3, -900, 40000, 0, "density_altitude_extended", "Density Altitude Extended", "m", NOK},
  {104, IM, 1, 8, 3, -900, 40000, 0, "sensor_ellipsoid_height_extended", "Sensor Ellipsoid Height Extended", "m", NOK},
  {105, IM, 1, 8, 3, -900, 40000, 0, "alternate_platform_ellipsoid_height_extended", "Alternate Platform Ellipsoid Height Extended", "m", NOK},
  {106, S, 0, 127, 0, 0, 0, 0, "stream_designator", "Stream Designator", "", NOK},
  {107, S, 0, 127, 0, 0, 0, 0, "operational_base", "Operational Base", "", NOK},
  {108, S, 0, 127, 0, 0, 0, 0, "broadcast_source", "Broadcast Source", "", NOK},
  {109, IM, 1, 8, 3, 0, 21000, 0, "range_to_recovery_location", "Range To Recovery Location", "km", NOK},
  {110, U, 1, 4, 0, 0, 0, 0, "time_airborne", "Time Airborne", "s", NOK},
  {111, U, 1, 4, 0, 0, 0, 0, "propulsion_unit_speed", "Propulsion Unit Speed", "rpm", NOK},
  {112, IM, 1, 8, 2, 0, 360, 0, "platform_course_angle", "Platform Course Angle", "deg", NOK},
  {113, IM, 1, 8, 3, -900, 40000, 0, "altitude_agl", "Altitude Above Ground Level (AGL)", "m", NOK},
  {114, IM, 1, 8, 3, -900, 40000, 0, "radar_altimeter", "Radar Altimeter", "m", NOK},
  {115, B, 0, 0, 0, 0, 0, 0, "control_command", "Control Command", "", NOK},
  {116, B, 0, 0, 0, 0, 0, 0, "control_command_verification_list", "Control Command Verification List", "", NOK},
  {117, IM, 1, 8, 2, -1000, 1000, 0, "sensor_azimuth_rate", "Sensor Azimuth Rate", "deg/s", NOK},
  {118, IM, 1, 8, 2, -1000, 1000, 0, "sensor_elevation_rate", "Sensor Elevation Rate", "deg/s", NOK},
  {119, IM, 1, 8, 2, -1000, 1000, 0, "sensor_roll_rate", "Sensor Roll Rate", "deg/s", NOK},
  {120, IM, 1, 8, 2, 0, 100, 0, "onboard_mi_storage_percent_full", "On-board MI Storage Percent Full", "%", NOK},
  {121, B, 0, 0, 0, 0, 0, 0, "active_wavelength_list", "Active Wavelength List", "", NOK},
  {122, B, 0, 0, 0, 0, 0, 0, "country_codes", "Country Codes", "", NOK},
  {123, U, 1, 1, 1, 0, 0, 0, "number_of_navsats_in_view", "Number of NAVSATs in View", "", NOK},
  {124, U, 1, 1, 1, 0, 0, 0, "positioning_method_source", "Positioning Method Source", "", NOK},
  {125, U, 1, 1, 1, 0, 0, 0, "platform_status", "Platform Status", "", NOK},
  {126, U, 1, 1, 1, 0, 0, 0, "sensor_control_mode", "Sensor Control Mode", "", NOK},
  {127, PK, 1, 0, 0, 0, 0, 0, "sensor_frame_rate_pack", "Sensor Frame Rate Pack", "", VG_KLV_KIND_PACK},
  {128, B, 0, 0, 0, 0, 0, 0, "wavelengths_list", "Wavelengths List", "", NOK},
  {129, S, 0, 32, 0, 0, 0, 0, "target_id", "Target ID", "", NOK},
  {130, B, 0, 0, 0, 0, 0, 0, "airbase_locations", "Airbase Locations", "", NOK},
  {131, TM, 1, 8, 0, 0, 0, 0, "take_off_time", "Take-off Time", "us", NOK},
  {132, IM, 1, 8, 3, 1, 99999, 0, "transmission_frequency", "Transmission Frequency", "MHz", NOK},
  {133, U, 1, 4, 0, 0, 0, 0, "onboard_mi_storage_capacity", "On-board MI Storage Capacity", "GB", NOK},
  {134, IM, 1, 8, 2, 0, 100, 0, "zoom_percentage", "Zoom Percentage", "%", NOK},
  {135, S, 0, 127, 0, 0, 0, 0, "communications_method", "Communications Method", "", NOK},
  {136, I, 1, 4, 0, 0, 0, 0, "leap_seconds", "Leap Seconds", "s", NOK},
  {137, I, 1, 8, 0, 0, 0, 0, "correction_offset", "Correction Offset", "us", NOK},
  {138, B, 0, 0, 0, 0, 0, 0, "payload_list", "Payload List", "", NOK},
  {139, B, 0, 0, 0, 0, 0, 0, "active_payloads", "Active Payloads", "", NOK},
  {140, B, 0, 0, 0, 0, 0, 0, "weapons_stores", "Weapons Stores", "", NOK},
  {141, B, 0, 0, 0, 0, 0, 0, "waypoint_list", "Waypoint List", "", NOK},
  {142, B, 0, 0, 0, 0, 0, 0, "view_domain", "View Domain", "", NOK},
  {143, B, 0, 0, 0, 0, 0, 0, "metadata_substream_id_pack", "Metadata Substream ID Pack", "", NOK},
};

#undef B
#undef U
#undef I
#undef UM
#undef SM
#undef IM
#undef S
#undef TM
#undef ST
#undef PK
#undef NOK

/*
 * Tag 127, Sensor Frame Rate Pack (ST 0601.19 §8.127): numerator, then an
 * optional denominator (default 1), each a BER-OID unsigned. Decoded as a pack
 * with pseudo-tags 1 (numerator) and 2 (denominator).
 */
static int pack_dec_0601(vg__klv_ctx *c, const vg_klv_tagdef *td, vg_klv_item *it)
{
  vg_rd r;
  uint32_t num, den = 1;
  vg_klv_item *f;
  int has_den;
  if (td->tag != 127)
    return VG_OK;
  rd_init(&r, it->raw, it->len);
  if (rd_ber_oid(&r, &num, NULL) != VG_OK)
    return VG_E_MALFORMED;
  has_den = rd_left(&r) > 0;
  if (has_den && rd_ber_oid(&r, &den, NULL) != VG_OK)
    return VG_E_MALFORMED;
  if (rd_left(&r) || den == 0)
    return VG_E_MALFORMED;
  if (!(f = vg__klv_pack_items(c, it, has_den ? 2 : 1)))
    return c->arena->err;
  f[0] = vg_klv_item_uint(1, num);
  if (has_den)
    f[1] = vg_klv_item_uint(2, den);
  return VG_OK;
}

static int pack_enc_0601(vg_buf *out, const vg_klv_tagdef *td, const vg_klv_item *it)
{
  const vg_klv_item *num, *den;
  int rc;
  if (td->tag != 127)
    return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
  num = vg_klv_find(it->child, 1);
  den = vg_klv_find(it->child, 2);
  if (!num || num->v.u > UINT32_MAX)
    return vg_error_set(VG_E_INVALID, "Sensor Frame Rate Pack without a numerator");
  rc = vg_klv_put_ber_oid(out, (uint32_t)num->v.u);
  if (rc == VG_OK && den)
    rc = vg_klv_put_ber_oid(out, (uint32_t)den->v.u);
  return rc;
}

static const char *pack_field_0601(uint32_t parent_tag, uint32_t field, const char **units)
{
  *units = "";
  if (parent_tag == 127)
    return field == 1 ? "numerator" : field == 2 ? "denominator" : NULL;
  return NULL;
}

const vg__klv_setdef vg__klv_st0601 = {
  .kind = VG_KLV_KIND_ST0601,
  .name = "ST 0601",
  .key = k_key_0601,
  .tags = k_tags,
  .ntags = sizeof k_tags / sizeof k_tags[0],
  .cksum_tag = 1,
  .version_tag = 65,
  .time_tag = 2,
  .pack_dec = pack_dec_0601,
  .pack_enc = pack_enc_0601,
  .pack_field = pack_field_0601,
};
