// register_builtin_transforms: every transform ptjs implements, listed once, and the torchvision
// transforms it refuses with the reason.
#include "center_crop.h"
#include "convert_image_dtype.h"
#include "grayscale.h"
#include "normalize.h"
#include "pad.h"
#include "pil_to_tensor.h"
#include "registry.h"
#include "resize.h"
#include "to_tensor.h"

namespace ptjs {

void register_builtin_transforms(transform_registry& registry) {
  registry.add("Resize", resize::from_args);
  registry.add("CenterCrop", center_crop::from_args);
  registry.add("Pad", pad::from_args);
  registry.add("Grayscale", grayscale::from_args);
  registry.add("ToTensor", to_tensor::from_args);
  registry.add("PILToTensor", pil_to_tensor::from_args);
  registry.add("ConvertImageDtype", convert_image_dtype::from_args);
  registry.add("Normalize", normalize::from_args);

  const std::string training_only =
      "is a random, training-time only augmentation; inference pipelines should use deterministic "
      "transforms (e.g. Resize + CenterCrop)";
  for (const char* name :
       {"RandomResizedCrop", "RandomSizedCrop", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
        "RandomRotation", "ColorJitter", "RandomAffine", "RandomErasing", "AutoAugment", "RandAugment",
        "TrivialAugmentWide", "AugMix", "RandomGrayscale", "RandomPerspective", "GaussianBlur", "RandomApply",
        "RandomChoice", "RandomOrder", "RandomInvert", "RandomPosterize", "RandomSolarize",
        "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize", "ElasticTransform"}) {
    registry.refuse(name, name + (" " + training_only));
  }
  for (const char* name : {"FiveCrop", "TenCrop"}) {
    registry.refuse(name, name + std::string(" returns several crops per image; a pipeline must produce one "
                                             "tensor (use CenterCrop)"));
  }
  registry.refuse("Lambda", "Lambda runs Python code, which ptjs cannot; export that step into the model");
  registry.refuse("Compose", "Compose is implicit: list the transforms under 'preprocess' in order");
}

}  // namespace ptjs
