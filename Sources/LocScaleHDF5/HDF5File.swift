import CHDF5
import Foundation

/// An HDF5 call that failed, naming the file and the object.
public struct HDF5Error: Error, CustomStringConvertible {
    public let path: String
    public let what: String
    public var description: String { "\(path): HDF5: \(what)" }
}

/// An HDF5 file being written: datasets and attributes by path ("/map", "/timing/compute_s").
/// It is created at `temporary` (the caller's temporary name for `path`, which errors name) and
/// only closed here; renaming it into place is the caller's.
public final class HDF5Writer {
    public let path: String
    private var file: hid_t

    public init(temporary: String, for path: String) throws {
        localscale_h5_quiet()
        self.path = path
        file = H5Fcreate(temporary, localscale_h5f_acc_trunc(), localscale_h5p_default(), localscale_h5p_default())
        guard file >= 0 else { throw HDF5Error(path: path, what: "cannot create \(temporary)") }
    }

    /// Opens the complete HDF5 file at `temporary` (written so far by `ParallelHDF5Map`) to add to it.
    public init(reopening temporary: String, for path: String) throws {
        localscale_h5_quiet()
        self.path = path
        file = H5Fopen(temporary, localscale_h5f_acc_rdwr(), localscale_h5p_default())
        guard file >= 0 else { throw HDF5Error(path: path, what: "cannot reopen \(temporary) (a short write?)") }
    }

    deinit { if file >= 0 { H5Fclose(file) } }

    /// Flushes and closes the file; it is closed afterwards whether or not that succeeded.
    public func close() throws {
        let status = H5Fclose(file)
        file = -1
        guard status >= 0 else { throw HDF5Error(path: path, what: "cannot write the file (disk full?)") }
    }

    /// Creates group `name` (e.g. "/timing").
    public func group(_ name: String) throws {
        let id = H5Gcreate2(file, name, localscale_h5p_default(), localscale_h5p_default(), localscale_h5p_default())
        guard id >= 0 else { throw HDF5Error(path: path, what: "cannot create group \(name)") }
        H5Gclose(id)
    }

    /// Writes a float32 dataset of shape `dims` (slowest first), chunked by `chunk` when given.
    public func write(_ values: [Float], to name: String, dims: [Int], chunk: [Int]? = nil) throws {
        try write(values, name: name, dims: dims, chunk: chunk, type: localscale_h5t_native_float())
    }

    /// Writes a 1-D float64 dataset.
    public func write(_ values: [Double], to name: String) throws {
        try write(values, name: name, dims: [values.count], chunk: nil, type: localscale_h5t_native_double())
    }

    /// Writes a 1-D int64 dataset.
    public func write(_ values: [Int64], to name: String) throws {
        try write(values, name: name, dims: [values.count], chunk: nil, type: localscale_h5t_native_int64())
    }

    /// Sets a float64 array attribute on the object at `object` ("/" for the file).
    public func setAttribute(_ name: String, _ values: [Double], on object: String) throws {
        try withObject(object) { id in
            let space = dataspace([values.count])
            defer { H5Sclose(space) }
            let attribute = H5Acreate2(id, name, localscale_h5t_native_double(), space, localscale_h5p_default(), localscale_h5p_default())
            guard attribute >= 0 else { throw HDF5Error(path: path, what: "cannot create attribute \(object)@\(name)") }
            defer { H5Aclose(attribute) }
            guard H5Awrite(attribute, localscale_h5t_native_double(), values) >= 0 else {
                throw HDF5Error(path: path, what: "cannot write attribute \(object)@\(name)")
            }
        }
    }

    /// Sets a string attribute on the object at `object`.
    public func setAttribute(_ name: String, _ text: String, on object: String) throws {
        try withObject(object) { id in
            let type = H5Tcopy(localscale_h5t_c_s1())
            defer { H5Tclose(type) }
            let bytes = Array(text.utf8)
            H5Tset_size(type, max(1, bytes.count))
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let attribute = H5Acreate2(id, name, type, space, localscale_h5p_default(), localscale_h5p_default())
            guard attribute >= 0 else { throw HDF5Error(path: path, what: "cannot create attribute \(object)@\(name)") }
            defer { H5Aclose(attribute) }
            let padded = bytes.isEmpty ? [UInt8(0)] : bytes
            guard H5Awrite(attribute, type, padded) >= 0 else {
                throw HDF5Error(path: path, what: "cannot write attribute \(object)@\(name)")
            }
        }
    }

    private func dataspace(_ dims: [Int]) -> hid_t {
        let extents = dims.map { hsize_t($0) }
        return H5Screate_simple(Int32(extents.count), extents, nil)
    }

    private func write<T>(_ values: [T], name: String, dims: [Int], chunk: [Int]?, type: hid_t) throws {
        precondition(values.count == dims.reduce(1, *))
        let space = dataspace(dims)
        defer { H5Sclose(space) }
        let properties = H5Pcreate(localscale_h5p_dataset_create())
        defer { H5Pclose(properties) }
        if let chunk, !values.isEmpty {
            let extents = chunk.map { hsize_t(max(1, $0)) }
            H5Pset_chunk(properties, Int32(extents.count), extents)
        }
        let dataset = H5Dcreate2(file, name, type, space, localscale_h5p_default(), properties, localscale_h5p_default())
        guard dataset >= 0 else { throw HDF5Error(path: path, what: "cannot create dataset \(name)") }
        defer { H5Dclose(dataset) }
        let status = values.withUnsafeBytes {
            H5Dwrite(dataset, type, localscale_h5s_all(), localscale_h5s_all(), localscale_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw HDF5Error(path: path, what: "cannot write dataset \(name)") }
    }

    private func withObject(_ object: String, _ body: (hid_t) throws -> Void) throws {
        let id = H5Oopen(file, object, localscale_h5p_default())
        guard id >= 0 else { throw HDF5Error(path: path, what: "no object \(object)") }
        defer { H5Oclose(id) }
        try body(id)
    }
}

/// Reads datasets back (for tests and scripts).
public final class HDF5Reader {
    public let path: String
    private let file: hid_t

    public init(path: String) throws {
        localscale_h5_quiet()
        self.path = path
        file = H5Fopen(path, localscale_h5f_acc_rdonly(), localscale_h5p_default())
        guard file >= 0 else { throw HDF5Error(path: path, what: "cannot open") }
    }

    deinit { H5Fclose(file) }

    /// The shape (slowest first) of dataset `name`.
    public func shape(of name: String) throws -> [Int] {
        let dataset = try open(name)
        defer { H5Dclose(dataset) }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    public func floats(_ name: String) throws -> [Float] { try read(name, type: localscale_h5t_native_float(), as: Float.self) }
    public func doubles(_ name: String) throws -> [Double] { try read(name, type: localscale_h5t_native_double(), as: Double.self) }
    public func integers(_ name: String) throws -> [Int64] { try read(name, type: localscale_h5t_native_int64(), as: Int64.self) }

    /// The float64 array attribute `name` of the object at `object` ("/map").
    public func doubles(attribute name: String, of object: String) throws -> [Double] {
        try withAttribute(name, of: object) { attribute in
            let space = H5Aget_space(attribute)
            defer { H5Sclose(space) }
            var values = [Double](repeating: 0, count: Int(H5Sget_simple_extent_npoints(space)))
            return H5Aread(attribute, localscale_h5t_native_double(), &values) < 0 ? nil : values
        }
    }

    /// The fixed-length string attribute `name` of the object at `object`.
    public func text(attribute name: String, of object: String) throws -> String {
        try withAttribute(name, of: object) { attribute in
            let type = H5Aget_type(attribute)
            defer { H5Tclose(type) }
            var bytes = [UInt8](repeating: 0, count: H5Tget_size(type))
            guard H5Aread(attribute, type, &bytes) >= 0 else { return nil }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// `body`'s value for the open attribute, or an error naming it when `body` gives nil.
    private func withAttribute<T>(_ name: String, of object: String, _ body: (hid_t) -> T?) throws -> T {
        let attribute = H5Aopen_by_name(file, object, name, localscale_h5p_default(), localscale_h5p_default())
        guard attribute >= 0 else { throw HDF5Error(path: path, what: "no attribute \(object)@\(name)") }
        defer { H5Aclose(attribute) }
        guard let value = body(attribute) else {
            throw HDF5Error(path: path, what: "cannot read attribute \(object)@\(name)")
        }
        return value
    }

    private func open(_ name: String) throws -> hid_t {
        let dataset = H5Dopen2(file, name, localscale_h5p_default())
        guard dataset >= 0 else { throw HDF5Error(path: path, what: "no dataset \(name)") }
        return dataset
    }

    private func read<T: Numeric>(_ name: String, type: hid_t, as: T.Type) throws -> [T] {
        let count = try shape(of: name).reduce(1, *)
        let dataset = try open(name)
        defer { H5Dclose(dataset) }
        var values = [T](repeating: 0, count: count)
        let status = values.withUnsafeMutableBytes {
            H5Dread(dataset, type, localscale_h5s_all(), localscale_h5s_all(), localscale_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw HDF5Error(path: path, what: "cannot read dataset \(name)") }
        return values
    }
}
