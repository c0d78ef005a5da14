/* JSON equality with numbers compared by value (1 == 1.0), as QGC reads them (its numbers are
 * doubles): what "a mission file read and written back is equal" means, for the mission
 * tests and the mission fuzz harness alike. Header only (jansson). */
#ifndef VG_TEST_JSON_H
#define VG_TEST_JSON_H

#include <jansson.h>

static inline int vg_test_json_num_equal(json_t *a, json_t *b)
{
  if (json_is_number(a) && json_is_number(b))
    return json_number_value(a) == json_number_value(b);
  if (json_typeof(a) != json_typeof(b))
    return 0;
  if (json_is_object(a)) {
    const char *k;
    json_t *v;
    if (json_object_size(a) != json_object_size(b))
      return 0;
    json_object_foreach(a, k, v) {
      json_t *w = json_object_get(b, k);
      if (!w || !vg_test_json_num_equal(v, w))
        return 0;
    }
    return 1;
  }
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b))
      return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!vg_test_json_num_equal(json_array_get(a, i), json_array_get(b, i)))
        return 0;
    return 1;
  }
  return json_equal(a, b);
}

#endif
