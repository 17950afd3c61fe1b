// Stand-in (declarations only) for TFLM's tensorflow/lite/c/common.h: what the squeezehome example uses.
#ifndef SQUEEZEHOME_STANDIN_COMMON_H_
#define SQUEEZEHOME_STANDIN_COMMON_H_
#include <cstdint>
typedef enum TfLiteStatus { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef union TfLitePtrUnion {
  int32_t* i32;
  int8_t* int8;
  uint8_t* uint8;
  float* f;
  void* data;
} TfLitePtrUnion;
typedef struct TfLiteTensor {
  TfLitePtrUnion data;
  size_t bytes;
} TfLiteTensor;
#endif
