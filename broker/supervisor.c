/* placeholder, being written */
typedef int es_placeholder_unit;
