// Stand-in (declarations only) for tensorflow/lite/schema/schema_generated.h.
#ifndef SQUEEZEHOME_STANDIN_SCHEMA_GENERATED_H_
#define SQUEEZEHOME_STANDIN_SCHEMA_GENERATED_H_
#include <cstdint>
#define TFLITE_SCHEMA_VERSION (3)
namespace tflite {
struct Model {
  uint32_t version() const;
};
const Model* GetModel(const void* buf);
}  // namespace tflite
#endif
