/*
 * KLV checksums.
 *
 * ST 0601 tag 1 (also standalone ST 0903): a 16-bit running sum over every
 * byte from the first byte of the 16-byte key through the checksum item's tag
 * and length bytes (01 02); the two checksum value bytes are excluded. Bytes
 * are summed as big-endian 16-bit words: even offsets weigh 256.
 */
#include "klv_int.h"

uint16_t vg_klv_checksum16(const uint8_t *buf, size_t len)
{
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < len; i += 2)
    sum += (uint32_t)buf[i] << 8 | buf[i + 1];
  if (i < len)
    sum += (uint32_t)buf[i] << 8;
  return (uint16_t)sum;
}

uint16_t vg_klv_crc16_ccitt(const uint8_t *buf, size_t len)
{
  uint16_t crc = 0xffff;
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)(buf[i] << 8);
    for (int b = 0; b < 8; b++)
      crc = (crc & 0x8000) ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}
