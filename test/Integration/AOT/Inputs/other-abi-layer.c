/* The C ABI of a layer library (docs/AheadOfTime.md) in name only, for
 * moe-exec's version check: built without ABI_VERSION it is a library of
 * version 1 (no moe_layer_abi_version), with it a library of that version.
 * moe-exec must refuse it before calling anything. */
void moe_layer_call(void **args) { (void)args; }
const char *moe_layer_description(void) { return ""; }
void moe_layer_set_threads(int n) { (void)n; }
int moe_layer_max_threads(void) { return 1; }
#ifdef ABI_VERSION
int moe_layer_abi_version(void) { return ABI_VERSION; }
#endif
