//! Every conversion between the WIT types and wasm-dbms's types.

use wasm_dbms_api::prelude::{
    Boolean, ColumnDef, DataTypeKind, DbmsError, Filter, Int8, Int16, Int32, Int64, Query,
    QueryError, Text, Uint8, Uint16, Uint32, Uint64, Value,
};

use crate::bindings::exports::wasm_dbms::demo::database::{
    Cell, Comparison, Condition, DbError, Query as WitQuery, Row, Value as WitValue,
};

/// The column definition of `name` among `columns`.
pub fn column(columns: &[ColumnDef], name: &str) -> Result<ColumnDef, DbError> {
    columns
        .iter()
        .find(|column| column.name == name)
        .cloned()
        .ok_or_else(|| DbError::BadRow(format!("unknown column `{name}`")))
}

/// A WIT row as wasm-dbms column values, each typed by its column.
pub fn row_values(
    columns: &[ColumnDef],
    row: Vec<Cell>,
) -> Result<Vec<(ColumnDef, Value)>, DbError> {
    row.into_iter()
        .map(|cell| {
            let column = column(columns, &cell.column)?;
            let value = value(&column, cell.value)?;
            Ok((column, value))
        })
        .collect()
}

/// A wasm-dbms row as a WIT row.
pub fn wit_row(values: Vec<(ColumnDef, Value)>) -> Row {
    values
        .into_iter()
        .map(|(column, value)| Cell {
            column: column.name.to_owned(),
            value: wit_value(value),
        })
        .collect()
}

/// The conjunction of `conditions`, or `None` when there are none.
pub fn filter(
    columns: &[ColumnDef],
    conditions: Vec<Condition>,
) -> Result<Option<Filter>, DbError> {
    let mut filter: Option<Filter> = None;
    for condition in conditions {
        let column = column(columns, &condition.column)?;
        let name = column.name;
        let next = match (condition.op, condition.value) {
            (Comparison::Like, WitValue::Text(pattern)) => Filter::like(name, &pattern),
            (Comparison::Like, _) => {
                return Err(DbError::BadRow(format!(
                    "`like` on `{name}` takes a text pattern"
                )));
            }
            (op, wit) => {
                let value = value(&column, wit)?;
                match op {
                    Comparison::Eq => Filter::eq(name, value),
                    Comparison::Ne => Filter::ne(name, value),
                    Comparison::Gt => Filter::gt(name, value),
                    Comparison::Lt => Filter::lt(name, value),
                    Comparison::Ge => Filter::ge(name, value),
                    Comparison::Le => Filter::le(name, value),
                    Comparison::Like => unreachable!("handled above"),
                }
            }
        };
        filter = Some(match filter {
            Some(previous) => previous.and(next),
            None => next,
        });
    }
    Ok(filter)
}

/// A wasm-dbms query from a WIT query.
pub fn query(columns: &[ColumnDef], wit: WitQuery) -> Result<Query, DbError> {
    let mut builder = Query::builder().all().filter(filter(columns, wit.filter)?);
    for order in wit.order_by {
        let name = column(columns, &order.column)?.name;
        builder = if order.descending {
            builder.order_by_desc(name)
        } else {
            builder.order_by_asc(name)
        };
    }
    if let Some(limit) = wit.limit {
        builder = builder.limit(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    if let Some(offset) = wit.offset {
        builder = builder.offset(usize::try_from(offset).unwrap_or(usize::MAX));
    }
    Ok(builder.build())
}

/// A WIT value as the wasm-dbms value of `column`'s type.
fn value(column: &ColumnDef, wit: WitValue) -> Result<Value, DbError> {
    let mismatch = |wit: &WitValue| {
        DbError::BadRow(format!(
            "column `{}` holds {:?}, not {wit:?}",
            column.name, column.data_type
        ))
    };
    let out_of_range = || {
        DbError::BadRow(format!(
            "value out of range for column `{}` of type {:?}",
            column.name, column.data_type
        ))
    };
    let integer = match &wit {
        WitValue::Int(number) => Some(i128::from(*number)),
        WitValue::Uint(number) => Some(i128::from(*number)),
        _ => None,
    };
    let value = match (&column.data_type, wit) {
        (_, WitValue::Null) => Value::Null,
        (DataTypeKind::Text, WitValue::Text(text)) => Value::Text(Text(text)),
        (DataTypeKind::Boolean, WitValue::Boolean(flag)) => Value::Boolean(Boolean(flag)),
        (kind, wit) => {
            let number = integer.ok_or_else(|| mismatch(&wit))?;
            macro_rules! narrow {
                ($variant:ident) => {
                    Value::$variant($variant(number.try_into().map_err(|_| out_of_range())?))
                };
            }
            match kind {
                DataTypeKind::Int8 => narrow!(Int8),
                DataTypeKind::Int16 => narrow!(Int16),
                DataTypeKind::Int32 => narrow!(Int32),
                DataTypeKind::Int64 => narrow!(Int64),
                DataTypeKind::Uint8 => narrow!(Uint8),
                DataTypeKind::Uint16 => narrow!(Uint16),
                DataTypeKind::Uint32 => narrow!(Uint32),
                DataTypeKind::Uint64 => narrow!(Uint64),
                _ => return Err(mismatch(&wit)),
            }
        }
    };
    Ok(value)
}

/// A wasm-dbms value as a WIT value; types this schema does not use travel as text.
fn wit_value(value: Value) -> WitValue {
    match value {
        Value::Null => WitValue::Null,
        Value::Boolean(flag) => WitValue::Boolean(flag.0),
        Value::Text(text) => WitValue::Text(text.0),
        Value::Int8(number) => WitValue::Int(number.0.into()),
        Value::Int16(number) => WitValue::Int(number.0.into()),
        Value::Int32(number) => WitValue::Int(number.0.into()),
        Value::Int64(number) => WitValue::Int(number.0),
        Value::Uint8(number) => WitValue::Uint(number.0.into()),
        Value::Uint16(number) => WitValue::Uint(number.0.into()),
        Value::Uint32(number) => WitValue::Uint(number.0.into()),
        Value::Uint64(number) => WitValue::Uint(number.0),
        other => WitValue::Text(format!("{other:?}")),
    }
}

/// wasm-dbms's error as the WIT error, keeping its message.
pub fn db_error(error: DbmsError) -> DbError {
    let message = error.to_string();
    match error {
        DbmsError::Query(QueryError::TableNotFound(_)) => DbError::UnknownTable(message),
        DbmsError::Query(
            QueryError::PrimaryKeyConflict
            | QueryError::UniqueConstraintViolation { .. }
            | QueryError::BrokenForeignKeyReference { .. }
            | QueryError::ForeignKeyConstraintViolation { .. }
            | QueryError::ConstraintViolation(_),
        ) => DbError::Constraint(message),
        DbmsError::Query(QueryError::UnknownColumn(_) | QueryError::MissingNonNullableField(_)) => {
            DbError::BadRow(message)
        }
        DbmsError::Query(QueryError::MemoryError(_)) | DbmsError::Memory(_) => {
            DbError::Storage(message)
        }
        DbmsError::Validation(_) | DbmsError::Sanitize(_) => DbError::Validation(message),
        DbmsError::Transaction(_) | DbmsError::Query(QueryError::TransactionNotFound) => {
            DbError::Transaction(message)
        }
        _ => DbError::Query(message),
    }
}
