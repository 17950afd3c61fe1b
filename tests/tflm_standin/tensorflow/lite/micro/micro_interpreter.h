// Stand-in (declarations only) for TFLM's micro_interpreter.h: what the squeezehome example uses.
#ifndef SQUEEZEHOME_STANDIN_MICRO_INTERPRETER_H_
#define SQUEEZEHOME_STANDIN_MICRO_INTERPRETER_H_
#include <cstddef>
#include <cstdint>
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
namespace tflite {
class MicroInterpreter {
 public:
  MicroInterpreter(const Model* model, const MicroOpResolver& op_resolver, uint8_t* tensor_arena,
                   size_t tensor_arena_size);
  TfLiteStatus AllocateTensors();
  TfLiteStatus Invoke();
  TfLiteTensor* input(size_t index);
  TfLiteTensor* output(size_t index);
  size_t arena_used_bytes() const;
};
}  // namespace tflite
#endif
