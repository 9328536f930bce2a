// Minimal owned buffers and non-owning row-major views used by every layer of the core.
//
// The numerics index small dense arrays in tight loops; these types keep that indexing
// explicit (``M(i, j)``, ``v[i]``) without pulling in a linear-algebra library. Buffers are
// left uninitialised on allocation (the kernels write before they read), as numpy's
// ``empty`` does: the likelihood tape can hold megabytes, and zeroing it for every
// optimisation would cost as much as a few likelihood evaluations.
#pragma once

#include <cstddef>
#include <memory>

namespace seqlab::arima {

// A contiguous run of ``size`` values of type T (non-owning).
template <class T>
struct Span {
  T* data = nullptr;
  int size = 0;

  T& operator[](int i) const { return data[i]; }
  Span<T> segment(int offset, int length) const { return {data + offset, length}; }
  Span<T> head(int length) const { return {data, length}; }
  void fill(T value) const {
    for (int i = 0; i < size; ++i) data[i] = value;
  }
  operator Span<const T>() const { return {data, size}; }
};

using Vec = Span<double>;
using ConstVec = Span<const double>;

// A row-major ``rows x cols`` matrix (non-owning); element (i, j) at ``data[i * cols + j]``.
template <class T>
struct MatrixView {
  T* data = nullptr;
  int rows = 0;
  int cols = 0;

  T& operator()(int i, int j) const { return data[static_cast<std::size_t>(i) * cols + j]; }
  Span<T> row(int i) const { return {data + static_cast<std::size_t>(i) * cols, cols}; }
  void fill(T value) const {
    const std::size_t n = static_cast<std::size_t>(rows) * cols;
    for (std::size_t i = 0; i < n; ++i) data[i] = value;
  }
  operator MatrixView<const T>() const { return {data, rows, cols}; }
};

using Mat = MatrixView<double>;
using ConstMat = MatrixView<const double>;

// Owned, uninitialised storage for ``size`` values.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t size) : data_(size ? new T[size] : nullptr), size_(size) {}

  T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) const { return data_[i]; }
  Span<T> span() const { return {data_.get(), static_cast<int>(size_)}; }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

// Owned, uninitialised ``rows x cols`` matrix.
class Matrix {
 public:
  Matrix() = default;
  Matrix(int rows, int cols)
      : buffer_(static_cast<std::size_t>(rows) * cols), rows_(rows), cols_(cols) {}

  Mat view() const { return {buffer_.data(), rows_, cols_}; }
  double& operator()(int i, int j) const {
    return buffer_[static_cast<std::size_t>(i) * cols_ + j];
  }
  int rows() const { return rows_; }
  int cols() const { return cols_; }

 private:
  Buffer<double> buffer_;
  int rows_ = 0;
  int cols_ = 0;
};

// A stack of ``count`` owned ``rows x cols`` matrices in one allocation (the filter's tape).
class MatrixStack {
 public:
  MatrixStack() = default;
  MatrixStack(int count, int rows, int cols)
      : buffer_(static_cast<std::size_t>(count) * rows * cols),
        count_(count),
        rows_(rows),
        cols_(cols) {}

  Mat operator[](int i) const {
    return {buffer_.data() + static_cast<std::size_t>(i) * rows_ * cols_, rows_, cols_};
  }
  int count() const { return count_; }

 private:
  Buffer<double> buffer_;
  int count_ = 0;
  int rows_ = 0;
  int cols_ = 0;
};

}  // namespace seqlab::arima
