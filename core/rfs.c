/* placeholder: implemented by the rfs module work */
