/* placeholder: implemented by the wire module work */
