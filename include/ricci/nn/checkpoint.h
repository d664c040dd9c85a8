#pragma once
// Resumable training: one file holds the model, the optimizer, the LR scheduler and the random
// generators, so that a run stopped at step N and resumed from the file continues exactly (bit for
// bit) as the run that never stopped.
//
//   nn::TrainingState st{.model = model.get(), .optimizer = &opt, .scheduler = &sched,
//                        .generators = {{"data", &data_gen}}, .extra = {{"step", "500"}}};
//   nn::save_checkpoint("run.ckpt", st);
//   // later, in a new process: build the same model, optimizer and scheduler, then
//   nn::load_checkpoint("run.ckpt", st);  // st.extra.at("step") == "500"
//
// The file is safetensors (see ricci/io.h), readable by any safetensors reader:
//   tensors   "model.<name>"                 the model's state_dict()
//             "optimizer.state.<i>.<name>"   the optimizer's per-parameter state (OptimizerStateDict)
//   metadata  "ricci.checkpoint": JSON text
//     {"format": 1,
//      "optimizer": {"type": "AdamW", "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, ...]},
//      "scheduler": {"type": "WarmupCosine", "last_epoch": 500, "base_lrs": [...], "options": {...}},
//      "generators": {"default": {"seed": 1337, "offset": 81920}, "data": {...}},
//      "extra": {"step": "500"}}
// Numbers in the JSON round-trip exactly (shortest representation of each double; seeds and
// offsets as unsigned integers).
#include <map>
#include <string>

#include "ricci/nn/module.h"

namespace ricci {
class Generator;
namespace optim {
class Optimizer;
class LRScheduler;
}  // namespace optim
}  // namespace ricci

namespace ricci::nn {

// What a checkpoint holds. Every part is optional: a null part is neither saved nor loaded.
struct TrainingState {
  Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::LRScheduler* scheduler = nullptr;
  // Generators besides the default one, by name (data order, sampling...).
  std::map<std::string, Generator*> generators;
  // Whether the default generator (dropout, and random ops given no generator) is saved and
  // restored, as "default".
  bool default_generator = true;
  // Free-form values saved with the checkpoint (the step reached, the run's settings); load
  // replaces them with the file's.
  std::map<std::string, std::string> extra;
};

// The missing and unexpected keys of a non-strict load, per part.
struct LoadCheckpointResult {
  LoadStateDictResult model, optimizer;
};

// Writes every non-null part of `state` to `path` (replacing the file atomically, as
// save_safetensors does). ValueError when a generator is named "default" or is null.
void save_checkpoint(const std::string& path, const TrainingState& state);

// Restores every non-null part of `state` from `path`. Everything is checked before anything is
// loaded; one error lists every problem of every part, and then nothing has changed:
//   [load_checkpoint] Error(s) in loading checkpoint run.ckpt:
//   	model (GPT): size mismatch for lm_head.weight: ...
//   	optimizer (AdamW): Missing key(s) in state_dict: "state.3.exp_avg_sq".
// (ShapeError when a shape is among them, else DTypeError when a dtype is, else ValueError.) A part
// `state` asks for that the file lacks is an error; parts of the file `state` does not ask for are
// ignored. strict applies to the model and the optimizer as in their load_state_dict. IOError
// when the file is not a readable ricci checkpoint.
LoadCheckpointResult load_checkpoint(const std::string& path, TrainingState& state, bool strict = true);

}  // namespace ricci::nn
