typedef int es_placeholder_unit;
