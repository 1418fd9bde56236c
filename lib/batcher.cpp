#include "batcher.h"

#include <algorithm>
#include <cstring>

#include "error.h"

namespace ptjs {
namespace {

double ms_between(batcher::clock::time_point a, batcher::clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// Images share a forward when size and element type match; tensors when every datatype and
// every dimension after the first match.
std::string batch_key(const batch_input& input) {
  if (input.tensors.empty()) {
    const cv::Mat& m = input.image.mat;
    return "image " + std::to_string(m.rows) + "x" + std::to_string(m.cols) + " type " + std::to_string(m.type());
  }
  std::string key = "tensors";
  for (const auto& t : input.tensors) {
    key += " " + t.datatype + "[*";
    for (size_t i = 1; i < t.shape.size(); ++i) key += "," + std::to_string(t.shape[i]);
    key += "]";
  }
  return key;
}

// Tensor i of every task, concatenated along the first dimension.
host_tensor concat(const std::vector<const host_tensor*>& parts) {
  host_tensor out;
  out.name = parts.front()->name;
  out.datatype = parts.front()->datatype;
  out.shape = parts.front()->shape;
  out.shape[0] = 0;
  size_t bytes = 0;
  for (const auto* p : parts) {
    out.shape[0] += p->shape[0];
    bytes += p->data.size();
  }
  out.data.reserve(bytes);
  for (const auto* p : parts) out.data.insert(out.data.end(), p->data.begin(), p->data.end());
  return out;
}

// Rows [begin, begin + rows) of a batched output.
host_tensor slice_rows(const host_tensor& t, int64_t begin, int64_t rows) {
  host_tensor out;
  out.name = t.name;
  out.datatype = t.datatype;
  out.shape = t.shape;
  out.shape[0] = rows;
  const size_t row_bytes = t.data.size() / static_cast<size_t>(t.shape[0]);
  out.data.assign(t.data.begin() + static_cast<std::ptrdiff_t>(begin * row_bytes),
                  t.data.begin() + static_cast<std::ptrdiff_t>((begin + rows) * row_bytes));
  return out;
}

}  // namespace

batcher::batcher(std::shared_ptr<const model> net, batcher_options options, batch_observer on_batch)
    : net_(std::move(net)), options_(options), on_batch_(std::move(on_batch)) {
  for (int i = 0; i < std::max(1, options_.lanes); ++i)
    lanes_.emplace_back([this] {
      if (options_.lane_threads > 0) set_torch_threads(options_.lane_threads);  // this thread's own
      loop();
    });
}

batcher::~batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : lanes_) t.join();
}

std::future<batch_result> batcher::submit(batch_input input, clock::time_point deadline) {
  auto t = std::make_unique<task>();
  if (!input.tensors.empty()) {
    const auto& first = input.tensors.front();
    if (first.shape.empty() || first.shape[0] < 1)
      throw error(error_code::invalid_input, "input '" + first.name + "' has shape " + shape_text(first.shape) +
                                                 "; its first dimension (the batch) must be at least 1");
    t->rows = first.shape[0];
  }
  t->key = batch_key(input);
  t->input = std::move(input);
  t->enqueued = clock::now();
  t->deadline = deadline;
  auto result = t->result.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) throw error(error_code::unavailable, "the server is shutting down");
    if (queue_.size() >= options_.queue_size)
      throw error(error_code::unavailable, "the queue is full (" + std::to_string(options_.queue_size) +
                                               " requests waiting); retry later");
    queue_.push_back(std::move(t));
  }
  wake_.notify_one();
  return result;
}

batcher::arrival::arrival(batcher* owner) : owner_(owner) {
  std::lock_guard<std::mutex> lock(owner_->mu_);
  ++owner_->incoming_;
}

void batcher::arrival::release() {
  if (!owner_) return;
  {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    --owner_->incoming_;
  }
  owner_->wake_.notify_one();
  owner_ = nullptr;
}

size_t batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

batcher::task_list batcher::take_batch(int64_t limit) {
  task_list batch;
  const std::string key = queue_.front()->key;
  int64_t rows = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->key == key && (batch.empty() || rows + (*it)->rows <= limit)) {
      rows += (*it)->rows;
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
      if (rows >= limit) break;
    } else {
      ++it;
    }
  }
  return batch;
}

void batcher::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  clock::time_point idle_since = clock::now();  // when the last forward ended
  for (;;) {
    if (queue_.empty()) {
      if (stop_) return;
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      continue;
    }
    // Fire when the oldest request's group fills a batch, when no other request is on its way,
    // or when the batch has waited max_delay_ms since it could have started (the oldest
    // request's arrival, or the end of the forward it arrived during).
    const task& oldest = *queue_.front();
    const auto fire_at = std::max(oldest.enqueued, idle_since) + std::chrono::milliseconds(options_.max_delay_ms);
    int64_t rows = 0;
    for (const auto& t : queue_)
      if (t->key == oldest.key) rows += t->rows;
    if (!stop_ && incoming_ > 0 && rows < options_.max_batch_size && clock::now() < fire_at) {
      wake_.wait_until(lock, fire_at);
      continue;
    }
    // A lane takes its share of the rows waiting and running, so that the lanes' batches stay
    // of a size: at c=8 with two lanes, a lane taking all that waited (6, say, while the other
    // ran 2) made the slowest requests twice as slow as the median.
    const int lanes = std::max(1, options_.lanes);
    const int64_t share = std::max<int64_t>(1, (rows + running_rows_ + lanes - 1) / lanes);
    task_list batch = take_batch(std::min<int64_t>(options_.max_batch_size, share));
    int64_t taken = 0;
    for (const auto& t : batch) taken += t->rows;
    running_rows_ += taken;
    if (!queue_.empty()) wake_.notify_one();
    lock.unlock();
    run(batch);
    lock.lock();
    running_rows_ -= taken;
    idle_since = clock::now();
  }
}

void batcher::run(task_list& batch) {
  // Requests whose caller has given up are not worth a forward.
  const auto now = clock::now();
  task_list live;
  for (auto& t : batch) {
    if (now >= t->deadline)
      t->result.set_exception(std::make_exception_ptr(
          error(error_code::timeout, "the request timed out after waiting " +
                                         std::to_string(static_cast<int64_t>(ms_between(t->enqueued, now))) +
                                         " ms in the queue")));
    else
      live.push_back(std::move(t));
  }
  if (live.empty()) return;
  try {
    forward(live);
    return;
  } catch (...) {
    if (live.size() == 1) {
      live.front()->result.set_exception(std::current_exception());
      return;
    }
  }
  for (auto& t : live) {
    task_list alone;
    alone.push_back(std::move(t));
    try {
      forward(alone);
    } catch (...) {
      alone.front()->result.set_exception(std::current_exception());
    }
  }
}

void batcher::forward(task_list& batch) {
  const auto start = clock::now();
  int64_t rows = 0;
  for (const auto& t : batch) rows += t->rows;
  std::vector<host_tensor> outputs;
  if (batch.front()->input.tensors.empty()) {
    std::vector<const sample*> images;
    for (const auto& t : batch) images.push_back(&t->input.image);
    outputs = net_->forward_images(images);
  } else if (batch.size() == 1) {
    outputs = net_->forward_tensors(batch.front()->input.tensors);
  } else {
    std::vector<host_tensor> inputs;
    for (size_t i = 0; i < batch.front()->input.tensors.size(); ++i) {
      std::vector<const host_tensor*> parts;
      for (const auto& t : batch) parts.push_back(&t->input.tensors[i]);
      inputs.push_back(concat(parts));
    }
    outputs = net_->forward_tensors(inputs);
  }
  const double infer_ms = ms_between(start, clock::now());

  // Split every output back along the batch before answering anyone, so that a failure
  // here (an output that is not batched) leaves every promise unset for the retry.
  std::vector<batch_result> results(batch.size());
  if (batch.size() == 1) {
    results[0].outputs = std::move(outputs);
  } else {
    for (const auto& out : outputs)
      if (out.shape.empty() || out.shape[0] != rows)
        throw error(error_code::internal, "model output '" + out.name + "' has shape " + shape_text(out.shape) +
                                              "; its first dimension is not the batch (" + std::to_string(rows) + ")");
    int64_t begin = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      for (const auto& out : outputs) results[i].outputs.push_back(slice_rows(out, begin, batch[i]->rows));
      begin += batch[i]->rows;
    }
  }
  if (on_batch_) on_batch_(static_cast<int>(rows), infer_ms);
  for (size_t i = 0; i < batch.size(); ++i) {
    results[i].queue_ms = ms_between(batch[i]->enqueued, start);
    results[i].infer_ms = infer_ms;
    results[i].batch_rows = static_cast<int>(rows);
    batch[i]->result.set_value(std::move(results[i]));
  }
}

}  // namespace ptjs
