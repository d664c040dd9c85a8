// save_checkpoint / load_checkpoint: model, optimizer, scheduler and generators in one safetensors
// file, the tensors as tensors and everything else as JSON in its metadata.
#include "ricci/nn/checkpoint.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <utility>
#include <vector>

#include "nn/state_dict_errors.h"
#include "ricci/io.h"
#include "ricci/optim.h"
#include "ricci/random.h"

namespace ricci::nn {

namespace {

using json = nlohmann::json;

constexpr const char* kMetadataKey = "ricci.checkpoint";
constexpr int kFormat = 1;
const std::string kModelPrefix = "model.";
const std::string kOptimizerPrefix = "optimizer.state.";

[[noreturn]] void malformed(const std::string& path, const std::string& what) {
  throw IOError("[load_checkpoint] " + path + ": malformed checkpoint metadata: " + what);
}

// The JSON value at `key` of object `j`, of the kind `ok` accepts; IOError naming `where` otherwise.
template <class Ok>
const json& field(const std::string& path, const json& j, const char* key, const std::string& where, Ok ok,
                  const char* expected) {
  auto it = j.find(key);
  if (it == j.end()) malformed(path, where + " has no \"" + key + "\"");
  if (!ok(*it)) malformed(path, where + "." + key + " must be " + expected + ", got " + it->dump());
  return *it;
}
bool is_object(const json& j) { return j.is_object(); }
bool is_array(const json& j) { return j.is_array(); }
bool is_string(const json& j) { return j.is_string(); }
bool is_uint(const json& j) { return j.is_number_unsigned(); }
bool is_int(const json& j) { return j.is_number_integer(); }

double as_double(const std::string& path, const json& j, const std::string& where) {
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  if (!j.is_number()) malformed(path, where + " must be a number, got " + j.dump());
  return j.get<double>();
}

json optimizer_json(const optim::OptimizerStateDict& sd) {
  json groups = json::array();
  for (const auto& g : sd.param_groups) {
    json o = json::object();
    for (const auto& [name, v] : g.options) {
      if (name == "nesterov" || name == "amsgrad") {
        o[name] = v != 0.0;
      } else {
        o[name] = v;
      }
    }
    o["params"] = g.params;
    groups.push_back(std::move(o));
  }
  return {{"type", sd.optimizer}, {"param_groups", std::move(groups)}};
}

// The optimizer's state dict from the file: JSON for the groups, tensors for the state.
optim::OptimizerStateDict read_optimizer(const std::string& path, const json& j, const SafetensorsFile& file) {
  optim::OptimizerStateDict sd;
  sd.optimizer = field(path, j, "type", "optimizer", is_string, "a string").get<std::string>();
  const json& groups = field(path, j, "param_groups", "optimizer", is_array, "an array");
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const std::string where = "optimizer.param_groups[" + std::to_string(gi) + "]";
    if (!groups[gi].is_object()) malformed(path, where + " must be an object, got " + groups[gi].dump());
    optim::OptimizerStateDict::Group& g = sd.param_groups.emplace_back();
    for (const auto& [name, v] : groups[gi].items()) {
      if (name != "params") g.options[name] = as_double(path, v, where + "." + name);
    }
    for (const json& i : field(path, groups[gi], "params", where, is_array, "an array")) {
      if (!i.is_number_integer()) malformed(path, where + ".params must hold integers, got " + i.dump());
      g.params.push_back(i.get<int64_t>());
    }
  }
  for (const auto& key : file.keys()) {
    if (key.rfind(kOptimizerPrefix, 0) != 0) continue;
    const std::string rest = key.substr(kOptimizerPrefix.size());
    const size_t dot = rest.find('.');
    int64_t idx = -1;
    const char* end = rest.data() + (dot == std::string::npos ? 0 : dot);
    const auto [ptr, ec] = std::from_chars(rest.data(), end, idx);
    if (dot == std::string::npos || dot == 0 || ec != std::errc() || ptr != end || dot + 1 == rest.size())
      throw IOError("[load_checkpoint] " + path + ": the tensor \"" + key + "\" is not named \"" + kOptimizerPrefix +
                    "<index>.<name>\"");
    sd.state[idx][rest.substr(dot + 1)] = file.get(key);
  }
  return sd;
}

optim::SchedulerStateDict read_scheduler(const std::string& path, const json& j) {
  optim::SchedulerStateDict sd;
  sd.scheduler = field(path, j, "type", "scheduler", is_string, "a string").get<std::string>();
  sd.last_epoch = field(path, j, "last_epoch", "scheduler", is_int, "an integer").get<int64_t>();
  for (const json& v : field(path, j, "base_lrs", "scheduler", is_array, "an array"))
    sd.base_lrs.push_back(as_double(path, v, "scheduler.base_lrs[]"));
  for (const auto& [name, v] : field(path, j, "options", "scheduler", is_object, "an object").items())
    sd.options[name] = as_double(path, v, "scheduler.options." + name);
  return sd;
}

GeneratorState read_generator(const std::string& path, const json& j, const std::string& name) {
  const std::string where = "generators." + name;
  if (!j.is_object()) malformed(path, where + " must be an object, got " + j.dump());
  return {field(path, j, "seed", where, is_uint, "an unsigned integer").get<uint64_t>(),
          field(path, j, "offset", where, is_uint, "an unsigned integer").get<uint64_t>()};
}

void check_generators(const char* op, const TrainingState& state) {
  for (const auto& [name, gen] : state.generators) {
    RICCI_CHECK(name != "default", ValueError, "[", op, "] the generator name \"default\" is reserved for the default "
                "generator (TrainingState::default_generator); pick another name");
    RICCI_CHECK(gen != nullptr, ValueError, "[", op, "] the generator \"", name, "\" is null");
  }
}

void prefix_lines(const std::string& prefix, std::vector<std::string> lines, std::vector<std::string>& out) {
  for (auto& l : lines) out.push_back(prefix + l);
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& state) {
  check_generators("save_checkpoint", state);
  std::vector<std::pair<std::string, Tensor>> tensors;
  json meta = {{"format", kFormat}};
  if (state.model)
    for (auto& [name, t] : state.model->state_dict()) tensors.emplace_back(kModelPrefix + name, std::move(t));
  if (state.optimizer) {
    const optim::OptimizerStateDict sd = state.optimizer->state_dict();
    for (const auto& [idx, entry] : sd.state)
      for (const auto& [name, t] : entry) tensors.emplace_back(kOptimizerPrefix + std::to_string(idx) + "." + name, t);
    meta["optimizer"] = optimizer_json(sd);
  }
  if (state.scheduler) {
    const optim::SchedulerStateDict sd = state.scheduler->state_dict();
    meta["scheduler"] = {{"type", sd.scheduler}, {"last_epoch", sd.last_epoch}, {"base_lrs", sd.base_lrs},
                         {"options", sd.options}};
  }
  json gens = json::object();
  if (state.default_generator) {
    const GeneratorState s = get_rng_state();
    gens["default"] = {{"seed", s.seed}, {"offset", s.offset}};
  }
  for (const auto& [name, gen] : state.generators) {
    const GeneratorState s = gen->get_state();
    gens[name] = {{"seed", s.seed}, {"offset", s.offset}};
  }
  meta["generators"] = std::move(gens);
  meta["extra"] = state.extra;
  save_safetensors(path, tensors, {{kMetadataKey, meta.dump()}});
}

LoadCheckpointResult load_checkpoint(const std::string& path, TrainingState& state, bool strict) {
  check_generators("load_checkpoint", state);
  const SafetensorsFile file = load_safetensors(path);
  const auto m = file.metadata().find(kMetadataKey);
  if (m == file.metadata().end())
    throw IOError("[load_checkpoint] " + path + " is not a ricci checkpoint (its metadata has no \"" + kMetadataKey +
                  "\"); weights saved with Module::save load with Module::load");
  json meta;
  try {
    meta = json::parse(m->second);
  } catch (const json::exception& e) {
    malformed(path, std::string("not JSON (") + e.what() + ")");
  }
  if (!meta.is_object()) malformed(path, "not a JSON object");
  const json& format = field(path, meta, "format", "the checkpoint", is_int, "an integer");
  if (format.get<int64_t>() != kFormat)
    throw IOError("[load_checkpoint] " + path + " has checkpoint format " + format.dump() + ", this ricci reads format " +
                  std::to_string(kFormat) + "; load it with the ricci that wrote it");

  // Check every part, then load them all: a problem anywhere leaves everything as it was.
  std::vector<std::string> lines;
  LoadCheckpointResult result;
  NamedTensors model_sd;
  std::vector<std::string> stray;  // tensors of no part
  for (const auto& key : file.keys()) {
    if (key.rfind(kModelPrefix, 0) == 0) {
      model_sd.emplace_back(key.substr(kModelPrefix.size()), Tensor());
    } else if (key.rfind(kOptimizerPrefix, 0) != 0) {
      stray.push_back(key);
    }
  }
  if (strict && !stray.empty())
    lines.push_back("Unexpected key(s) in checkpoint (neither \"model.\" nor \"optimizer.state.\"): " +
                    detail::join_quoted(stray) + ".");
  if (state.model) {
    for (auto& [name, t] : model_sd) t = file.get(kModelPrefix + name);
    result.model = state.model->check_state_dict(model_sd, strict);
    prefix_lines("model (" + state.model->type_name() + "): ", result.model.errors, lines);
  }
  optim::OptimizerStateDict opt_sd;
  if (state.optimizer) {
    const std::string who = "optimizer (" + state.optimizer->type_name() + "): ";
    if (!meta.contains("optimizer")) {
      lines.push_back(who + "the checkpoint holds no optimizer state");
    } else {
      opt_sd = read_optimizer(path, meta["optimizer"], file);
      result.optimizer = state.optimizer->check_state_dict(opt_sd, strict);
      prefix_lines(who, result.optimizer.errors, lines);
    }
  }
  optim::SchedulerStateDict sched_sd;
  if (state.scheduler) {
    const std::string who = "scheduler (" + state.scheduler->type_name() + "): ";
    if (!meta.contains("scheduler")) {
      lines.push_back(who + "the checkpoint holds no scheduler state");
    } else {
      sched_sd = read_scheduler(path, meta["scheduler"]);
      prefix_lines(who, state.scheduler->check_state_dict(sched_sd), lines);
    }
  }
  std::vector<std::pair<Generator*, GeneratorState>> gens;
  const json empty = json::object();
  const json& saved_gens = meta.contains("generators") ? meta["generators"] : empty;
  if (!saved_gens.is_object()) malformed(path, "generators must be an object, got " + saved_gens.dump());
  auto want_generator = [&](const std::string& name, Generator* gen) {
    if (!saved_gens.contains(name)) {
      lines.push_back("generator \"" + name + "\": the checkpoint holds no generator of that name");
    } else {
      gens.emplace_back(gen, read_generator(path, saved_gens[name], name));
    }
  };
  if (state.default_generator) want_generator("default", &default_generator());
  for (const auto& [name, gen] : state.generators) want_generator(name, gen);
  std::map<std::string, std::string> extra;
  if (meta.contains("extra")) {
    if (!meta["extra"].is_object()) malformed(path, "extra must be an object, got " + meta["extra"].dump());
    for (const auto& [k, v] : meta["extra"].items()) {
      if (!v.is_string()) malformed(path, "extra." + k + " must be a string, got " + v.dump());
      extra[k] = v.get<std::string>();
    }
  }
  if (!lines.empty()) detail::throw_state_dict_errors("[load_checkpoint] Error(s) in loading checkpoint " + path + ":", lines);

  if (state.model) state.model->load_state_dict(model_sd, strict);
  if (state.optimizer) state.optimizer->load_state_dict(opt_sd, strict);
  if (state.scheduler) state.scheduler->load_state_dict(sched_sd);
  for (const auto& [gen, s] : gens) gen->set_state(s);
  state.extra = std::move(extra);
  return result;
}

}  // namespace ricci::nn
